"""A member as an inviter: how many of her invites are still open, against the community's limit."""

from __future__ import annotations

import hashlib

from services.identity.domain.events import InviteIssued, InviteSettled
from shared.domain import Aggregate, DomainError, applies


def inviter_id(community: str, member: str) -> str:
    return f"{community}.inviter.{hashlib.sha256(member.encode()).hexdigest()[:32]}"


class Inviter(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.open: set[str] = set()

    def issue(self, invite: str, *, limit: int, now: int) -> None:
        if len(self.open) >= limit:
            raise DomainError(
                "invite_limit_reached",
                f"you have {len(self.open)} open invites; the limit is {limit} until one is "
                "accepted, revoked or expires",
            )
        self.trigger(InviteIssued, now, invite_id=invite)

    def settle(self, invite: str, *, now: int) -> None:
        if invite in self.open:
            self.trigger(InviteSettled, now, invite_id=invite)

    @applies(InviteIssued)
    def _issued(self, event: InviteIssued) -> None:
        self.open.add(event.invite_id)

    @applies(InviteSettled)
    def _settled(self, event: InviteSettled) -> None:
        self.open.discard(event.invite_id)
