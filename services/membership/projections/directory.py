"""The member directory of each community: search by text, filter by role, status, type and tag."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from services.membership.domain.events import (
    MemberAdmitted,
    MemberApplied,
    MemberInvited,
    MemberLeft,
    MemberReinstated,
    MemberRejected,
    MemberRemoved,
    MembershipRenewed,
    MemberSuspended,
    ProfileUpdated,
    RolesChanged,
)
from shared.domain import Event

_STATUS = {
    MemberSuspended: "suspended",
    MemberReinstated: "active",
    MemberLeft: "left",
    MemberRemoved: "removed",
    MemberRejected: "rejected",
}


@dataclass
class Entry:
    member: str  # the member aggregate's id token
    name: str
    status: str
    did: str = ""
    email: str = ""
    external_id: str = ""
    membership_type: str = ""
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    profile: dict[str, str] = field(default_factory=dict)
    expires_ns: int = 0
    grace_ns: int = 0

    def standing(self, now: int) -> str:
        if self.status != "active":
            return self.status
        if now < self.expires_ns:
            return "active"
        return "in_grace" if now < self.expires_ns + self.grace_ns else "expired"

    def text(self) -> str:
        return " ".join([self.name, self.email, self.did, self.external_id, *self.profile.values()]).lower()


class DirectoryView:
    def __init__(self) -> None:
        self.position = 0
        self._entries: dict[str, dict[str, Entry]] = {}

    def apply(self, event: Event) -> None:
        community, kind, ident = event.originator_id.split(".", 2)
        if kind != "member":
            return
        entries = self._entries.setdefault(community, {})
        if isinstance(event, MemberInvited):
            entries[ident] = Entry(
                ident,
                event.name,
                "invited",
                did=event.did,
                email=event.email,
                external_id=event.external_id,
                membership_type=event.membership_type,
                roles=event.roles,
                tags=event.tags,
                profile=dict(event.profile),
            )
            return
        entry = entries.setdefault(ident, Entry(ident, "", "new"))
        if isinstance(event, MemberApplied):
            entry.status, entry.did, entry.name = "applied", event.did, event.name
            entry.profile, entry.membership_type = dict(event.profile), event.membership_type
        elif isinstance(event, MemberAdmitted):
            entry.status, entry.did, entry.name = "active", event.did, event.name
            entry.membership_type, entry.roles = event.membership_type, event.roles
            entry.expires_ns, entry.grace_ns = event.expires_ns, event.grace_ns
        elif isinstance(event, MembershipRenewed):
            entry.expires_ns, entry.grace_ns = event.expires_ns, event.grace_ns
        elif isinstance(event, RolesChanged):
            entry.roles = event.roles
        elif isinstance(event, ProfileUpdated):
            entry.name, entry.profile, entry.tags = event.name, dict(event.profile), event.tags
        elif type(event) in _STATUS:
            entry.status = _STATUS[type(event)]

    def standings(self, community: str, now: int) -> dict[str, int]:
        """How many of the community's people are in each standing (active, in_grace, expired,
        applied, invited, suspended, left, removed, rejected); only the standings that occur."""
        counts: dict[str, int] = {}
        for entry in self._entries.get(community, {}).values():
            standing = entry.standing(now)
            counts[standing] = counts.get(standing, 0) + 1
        return dict(sorted(counts.items()))

    def search(
        self,
        community: str,
        *,
        now: int,
        text: str = "",
        role: str | None = None,
        status: str | None = None,
        membership_type: str | None = None,
        tag: str | None = None,
    ) -> list[dict[str, Any]]:
        """Entries matching every given filter; `status` matches the lifecycle status or the standing."""
        needle = text.strip().lower()
        found = []
        for entry in self._entries.get(community, {}).values():
            standing = entry.standing(now)
            if needle and needle not in entry.text():
                continue
            if role is not None and role not in entry.roles:
                continue
            if status is not None and status not in (entry.status, standing):
                continue
            if membership_type is not None and entry.membership_type != membership_type:
                continue
            if tag is not None and tag not in entry.tags:
                continue
            found.append(
                {**asdict(entry), "roles": list(entry.roles), "tags": list(entry.tags), "standing": standing}
            )
        return sorted(found, key=lambda e: (e["name"].lower(), e["member"]))
