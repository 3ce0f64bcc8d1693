"""A chat message: plain text in a channel, or one sealed box per member in a private conversation."""

from __future__ import annotations

from services.messaging.domain.errors import Missing
from services.messaging.domain.events import (
    MessageModerated,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    Sealed,
    Statement,
)
from shared.domain import Aggregate, DomainError, applies

ACTIONS = ("flag", "hide", "remove", "restore")


def message_id(community: str, message: str) -> str:
    return f"{community}.message.{message}"


class ChatMessage(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.message = aggregate_id.rsplit(".", 1)[-1]
        self.conversation = ""
        self.body = ""
        self.sealed: tuple[Sealed, ...] = ()
        self.parent = ""
        self.by = ""
        self.state = "visible"
        self.reactions: dict[str, set[str]] = {}
        self.flags: dict[str, str] = {}
        self.moderated_by = ""  # the moderator whose hide or removal stands

    def post(
        self,
        *,
        conversation: str,
        body: str,
        sealed: tuple[Sealed, ...],
        parent: str,
        by: str,
        statement: Statement,
        now: int,
    ) -> None:
        if self.version:
            raise DomainError("message_exists", f"message {self.message} already exists")
        self.trigger(
            MessagePosted,
            now,
            message=self.message,
            conversation=conversation,
            body=body,
            sealed=sealed,
            parent=parent,
            by=by,
            statement=statement,
        )

    def require_visible(self) -> None:
        if self.state != "visible":
            raise Missing("unknown_message", f"there is no message {self.message}")

    def react(self, *, reaction: str, by: str, add: bool, statement: Statement, now: int) -> None:
        self.require_visible()
        has = by in self.reactions.get(reaction, set())
        if add and not has:
            self.trigger(
                ReactionAdded, now, target=self.message, reaction=reaction, by=by, statement=statement
            )
        elif not add and has:
            self.trigger(
                ReactionRemoved, now, target=self.message, reaction=reaction, by=by, statement=statement
            )

    def moderate(self, *, action: str, by: str, reason: str, statement: Statement, now: int) -> None:
        if action == "flag":
            self.require_visible()
            if by in self.flags:
                raise DomainError("already_flagged", "you flagged this message already")
        elif action == "restore" and self.state == "visible":
            raise DomainError("not_moderated", "this message is visible; there is nothing to restore")
        elif action in ("hide", "remove") and self.state == ("hidden" if action == "hide" else "removed"):
            raise DomainError("already_moderated", f"this message is already {self.state}")
        self.trigger(
            MessageModerated,
            now,
            message=self.message,
            conversation=self.conversation,
            action=action,
            by=by,
            reason=reason,
            statement=statement,
        )

    @applies(MessagePosted)
    def _posted(self, event: MessagePosted) -> None:
        self.conversation, self.body, self.sealed = event.conversation, event.body, event.sealed
        self.parent, self.by = event.parent, event.by

    @applies(ReactionAdded)
    def _reacted(self, event: ReactionAdded) -> None:
        self.reactions.setdefault(event.reaction, set()).add(event.by)

    @applies(ReactionRemoved)
    def _unreacted(self, event: ReactionRemoved) -> None:
        self.reactions.get(event.reaction, set()).discard(event.by)

    @applies(MessageModerated)
    def _moderated(self, event: MessageModerated) -> None:
        if event.action == "flag":
            self.flags[event.by] = event.reason
        elif event.action == "restore":
            self.state, self.flags, self.moderated_by = "visible", {}, ""
        else:
            self.state = "hidden" if event.action == "hide" else "removed"
            self.moderated_by = event.by
