"""The roll: who is a member in good standing at an instant (active, not suspended, within grace)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

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
    """One member's dated history: what her status and term were from each instant on."""

    did: str
    statuses: list[tuple[int, str]] = field(default_factory=list)  # (from_ns, status)
    terms: list[tuple[int, int, int]] = field(default_factory=list)  # (from_ns, expires_ns, grace_ns)

    def in_good_standing(self, at_ns: int) -> bool:
        """Active at `at_ns` as the history then stood (not as it stands now), within term+grace."""
        index = bisect_right(self.statuses, (at_ns, "\uffff")) - 1
        if index < 0 or self.statuses[index][1] != "active":
            return False  # not yet admitted, or suspended/gone at that instant
        term = bisect_right(self.terms, (at_ns, 2**63, 2**63)) - 1
        if term < 0:
            return False
        _, expires_ns, grace_ns = self.terms[term]
        return at_ns < expires_ns + grace_ns


class RollView:
    """Per community, per member aggregate: dated status and term; queried for any instant."""

    def __init__(self) -> None:
        self.position = 0
        self._entries: dict[str, dict[str, RollEntry]] = {}

    def apply(self, event: Event) -> None:
        community, kind, _ = event.originator_id.split(".", 2)
        if kind != "member":
            return
        entries = self._entries.setdefault(community, {})
        entry = entries.get(event.originator_id)
        at = event.occurred_ns
        if isinstance(event, MemberAdmitted):
            entry = entries[event.originator_id] = RollEntry(event.did)
            entry.statuses.append((at, "active"))
            entry.terms.append((at, event.expires_ns, event.grace_ns))
        elif entry is None:
            return
        elif isinstance(event, MembershipRenewed):
            entry.terms.append((at, event.expires_ns, event.grace_ns))
        elif isinstance(event, MemberSuspended):
            entry.statuses.append((at, "suspended"))
        elif isinstance(event, MemberReinstated):
            entry.statuses.append((at, "active"))
        elif isinstance(event, MemberLeft | MemberRemoved):
            entry.statuses.append((at, "gone"))

    def members(self, community: str, at_ns: int) -> list[str]:
        """Sorted DIDs of the members in good standing at `at_ns`."""
        entries = self._entries.get(community, {}).values()
        return sorted(entry.did for entry in entries if entry.in_good_standing(at_ns))

    def is_eligible(self, community: str, did: str, at_ns: int) -> bool:
        return did in self.members(community, at_ns)
