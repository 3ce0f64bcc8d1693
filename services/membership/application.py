"""The membership application: loads and saves communities, members, member keys and roll snapshots."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError

from services.membership.domain.community import Community, community_id
from services.membership.domain.events import REGISTRY
from services.membership.domain.member import Member
from services.membership.domain.member_key import MemberKey, member_key_id
from services.membership.retry import Conflict
from shared.application import NotFound, ServiceApplication
from shared.domain import DomainError, Event
from shared.subjects import InvalidSubject, check_token


def slug_token(value: str) -> str:
    """A community slug is a subject token (it names the tenant on every subject)."""
    try:
        return check_token(value, "community")
    except InvalidSubject as exc:
        raise DomainError("invalid_request", str(exc)) from exc


class MembershipApplication(ServiceApplication):
    registry: ClassVar = REGISTRY

    def community(self, slug: str) -> Community:
        try:
            return self.load(Community, community_id(slug_token(slug)))
        except NotFound:
            raise NotFound("unknown_community", f"there is no community {slug!r}") from None

    def member_by_key(self, community: str, key: str) -> Member | None:
        """The member a DID (`did:…`), email (`email:…`) or external id (`external:…`) names."""
        try:
            claimed = self.load(MemberKey, member_key_id(community, key))
        except NotFound:
            return None
        return self.load(Member, claimed.member_id)

    def member_by_did(self, community: str, did: str) -> Member:
        member = self.member_by_key(community, did)
        if member is None:
            raise NotFound("unknown_member", f"{did} is not known in community {community}")
        return member

    def history(self, aggregate_id: str) -> list[Event]:
        return [event for event in self.events.get(aggregate_id) if isinstance(event, Event)]

    def save_or_conflict(self, *aggregates: Any) -> None:
        """Save as one atomic batch; a concurrent change or an existing key is a typed refusal."""
        try:
            self.save(*aggregates)
        except IntegrityError as exc:
            keys = [a for a in aggregates if isinstance(a, MemberKey) and a.version == 1]
            if any(self.exists(MemberKey, key.id) for key in keys):
                raise DomainError(
                    "duplicate_member", "this person is already known in the community"
                ) from exc
            raise Conflict("conflict", "changed concurrently; nothing was recorded, try again") from exc
