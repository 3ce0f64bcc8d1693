"""The roll: who is a member in good standing at an instant (active, not suspended, within grace)."""

from __future__ import annotations

from dataclasses import dataclass

from services.membership.domain.events import (
    MemberAdmitted,
    MemberLeft,
    MemberReinstated,
    MemberRemoved,
    MembershipRenewed,
    MemberSuspended,
)
from shared.domain import Event


@dataclass
class RollEntry:
    did: str
    status: str
    expires_ns: int
    grace_ns: int

    def in_good_standing(self, at_ns: int) -> bool:
        return self.status == "active" and at_ns < self.expires_ns + self.grace_ns


class RollView:
    """Per community, per member aggregate: status and term; queried for any instant `at_ns`."""

    def __init__(self) -> None:
        self.position = 0
        self._entries: dict[str, dict[str, RollEntry]] = {}

    def apply(self, event: Event) -> None:
        community, kind, _ = event.originator_id.split(".", 2)
        if kind != "member":
            return
        entries = self._entries.setdefault(community, {})
        entry = entries.get(event.originator_id)
        if isinstance(event, MemberAdmitted):
            entries[event.originator_id] = RollEntry(event.did, "active", event.expires_ns, event.grace_ns)
        elif entry is None:
            return
        elif isinstance(event, MembershipRenewed):
            entry.expires_ns, entry.grace_ns = event.expires_ns, event.grace_ns
        elif isinstance(event, MemberSuspended):
            entry.status = "suspended"
        elif isinstance(event, MemberReinstated):
            entry.status = "active"
        elif isinstance(event, MemberLeft | MemberRemoved):
            entry.status = "gone"

    def members(self, community: str, at_ns: int) -> list[str]:
        """Sorted DIDs of the members in good standing at `at_ns`."""
        entries = self._entries.get(community, {}).values()
        return sorted(entry.did for entry in entries if entry.in_good_standing(at_ns))

    def is_eligible(self, community: str, did: str, at_ns: int) -> bool:
        return did in self.members(community, at_ns)
