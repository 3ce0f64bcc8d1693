"""Bans from one space (a forum category or a chat conversation), shared by both aggregates."""

from __future__ import annotations

from services.messaging.domain.errors import Forbidden
from services.messaging.domain.events import MemberBanned, MemberUnbanned, Statement
from shared.domain import Aggregate, DomainError, applies


class Bans(Aggregate):
    """Mixed into a space aggregate: who is banned from it, decided by moderators with a reason."""

    banned: dict[str, str]  # did -> reason
    space: str

    def ban(self, *, member: str, reason: str, by: str, statement: Statement, now: int) -> None:
        if member in self.banned:
            raise DomainError("already_banned", f"{member} is already banned from {self.space}")
        self.trigger(
            MemberBanned, now, space=self.space, member=member, reason=reason, by=by, statement=statement
        )

    def unban(self, *, member: str, reason: str, by: str, statement: Statement, now: int) -> None:
        if member not in self.banned:
            raise DomainError("not_banned", f"{member} is not banned from {self.space}")
        self.trigger(
            MemberUnbanned, now, space=self.space, member=member, reason=reason, by=by, statement=statement
        )

    def require_not_banned(self, did: str) -> None:
        if did in self.banned:
            raise Forbidden("banned", f"you are banned from this space: {self.banned[did]}")

    @applies(MemberBanned)
    def _banned(self, event: MemberBanned) -> None:
        self.banned[event.member] = event.reason

    @applies(MemberUnbanned)
    def _unbanned(self, event: MemberUnbanned) -> None:
        self.banned.pop(event.member, None)
