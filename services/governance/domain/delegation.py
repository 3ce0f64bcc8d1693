"""A proxy: a member's signed, revocable delegation of her vote, for one poll or for a period."""

from __future__ import annotations

from services.governance.domain.events import DelegationGranted, DelegationRevoked, Statement
from shared.domain import Aggregate, DomainError, applies


def delegation_id(community: str, delegation: str) -> str:
    return f"{community}.delegation.{delegation}"


class Delegation(Aggregate):
    community: str
    delegator: str
    proxy: str
    poll: str
    valid_from_ns: int
    valid_until_ns: int

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.revoked = False

    @classmethod
    def grant(
        cls,
        *,
        community: str,
        delegation: str,
        delegator: str,
        proxy: str,
        poll: str,
        valid_from_ns: int,
        valid_until_ns: int,
        statement: Statement,
        now: int,
    ) -> Delegation:
        if proxy == delegator:
            raise DomainError("invalid_delegation", "a member cannot be her own proxy")
        if not poll and not valid_from_ns < valid_until_ns:
            raise DomainError(
                "invalid_delegation", "delegate for one poll, or for a period that ends after it starts"
            )
        granted = cls(delegation_id(community, delegation))
        granted.trigger(
            DelegationGranted,
            now,
            community=community,
            delegator=delegator,
            proxy=proxy,
            poll=poll,
            valid_from_ns=valid_from_ns,
            valid_until_ns=valid_until_ns,
            statement=statement,
        )
        return granted

    @property
    def key(self) -> str:
        return self.id.rsplit(".", 1)[-1]

    def covers(self, poll: str, at_ns: int) -> bool:
        """True when this delegation, unrevoked, lets the proxy vote in `poll` at `at_ns`."""
        if self.revoked:
            return False
        if self.poll:
            return self.poll == poll
        return self.valid_from_ns <= at_ns < self.valid_until_ns

    def revoke(self, by: str, statement: Statement, now: int) -> None:
        if by != self.delegator:
            raise DomainError("not_your_delegation", "only the member who delegated may revoke it")
        if self.revoked:
            raise DomainError("already_revoked", "this delegation is already revoked")
        self.trigger(DelegationRevoked, now, by=by, statement=statement)

    @applies(DelegationGranted)
    def _granted(self, event: DelegationGranted) -> None:
        self.community, self.delegator, self.proxy = event.community, event.delegator, event.proxy
        self.poll, self.valid_from_ns, self.valid_until_ns = (
            event.poll,
            event.valid_from_ns,
            event.valid_until_ns,
        )

    @applies(DelegationRevoked)
    def _revoked(self, _: DelegationRevoked) -> None:
        self.revoked = True
