"""The moderation log members can read, open flags for moderators, and appeals."""

from __future__ import annotations

from typing import Any

from services.messaging.domain.events import (
    AppealDecided,
    AppealFiled,
    MemberBanned,
    MemberUnbanned,
    MessageModerated,
    PostFlagged,
    PostHidden,
    PostRemoved,
    PostRestored,
)
from shared.domain import Event

ACTIONS: dict[type[Event], str] = {
    PostHidden: "hide",
    PostRemoved: "remove",
    PostRestored: "restore",
    MemberBanned: "ban",
    MemberUnbanned: "unban",
}


class ModerationView:
    def __init__(self) -> None:
        self.position = 0
        self.log: dict[str, list[dict[str, Any]]] = {}
        self.flags: dict[str, dict[str, dict[str, Any]]] = {}  # community -> target -> open flags
        self.appeals: dict[str, dict[str, dict[str, Any]]] = {}

    def apply(self, event: Event) -> None:
        community = event.originator_id.split(".", 1)[0]
        log = self.log.setdefault(community, [])
        flags = self.flags.setdefault(community, {})
        entry: dict[str, Any] | None = None
        if isinstance(event, PostFlagged):
            target = flags.setdefault(
                event.post,
                {"kind": "post", "target": event.post, "space": f"category:{event.category}", "flags": []},
            )
            target["flags"].append({"by": event.by, "reason": event.reason, "at_ns": event.occurred_ns})
        elif isinstance(event, PostHidden | PostRemoved | PostRestored):
            flags.pop(event.post, None)
            entry = {
                "action": ACTIONS[type(event)],
                "kind": "post",
                "target": event.post,
                "space": f"category:{event.category}",
                "by": event.by,
                "reason": event.reason,
            }
        elif isinstance(event, MessageModerated):
            if event.action == "flag":
                target = flags.setdefault(
                    event.message,
                    {
                        "kind": "message",
                        "target": event.message,
                        "space": f"conversation:{event.conversation}",
                        "flags": [],
                    },
                )
                target["flags"].append({"by": event.by, "reason": event.reason, "at_ns": event.occurred_ns})
            else:
                flags.pop(event.message, None)
                entry = {
                    "action": event.action,
                    "kind": "message",
                    "target": event.message,
                    "space": f"conversation:{event.conversation}",
                    "by": event.by,
                    "reason": event.reason,
                }
        elif isinstance(event, MemberBanned | MemberUnbanned):
            entry = {
                "action": ACTIONS[type(event)],
                "kind": "ban",
                "target": event.member,
                "space": event.space,
                "by": event.by,
                "reason": event.reason,
            }
        elif isinstance(event, AppealFiled):
            self.appeals.setdefault(community, {})[event.appeal] = {
                "appeal": event.appeal,
                "target_kind": event.target_kind,
                "target": event.target,
                "by": event.by,
                "reason": event.reason,
                "filed_ns": event.occurred_ns,
                "decision": "",
            }
        elif isinstance(event, AppealDecided):
            appeal = self.appeals.get(community, {}).get(event.appeal)
            if appeal is not None:
                appeal.update(decision=event.decision, decided_by=event.by, decision_reason=event.reason)
            entry = {
                "action": f"appeal_{event.decision}",
                "kind": "appeal",
                "target": event.appeal,
                "space": "",
                "by": event.by,
                "reason": event.reason,
            }
        if entry is not None:
            statement = getattr(event, "statement", None)
            entry["at_ns"] = event.occurred_ns
            entry["statement"] = statement
            log.append(entry)
