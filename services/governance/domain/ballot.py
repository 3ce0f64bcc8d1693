"""A member's ballot in one poll: one aggregate per (poll, voter), so a later ballot replaces the earlier."""

from __future__ import annotations

import hashlib
from typing import Any

from services.governance.domain.events import BallotCast, Statement
from shared.domain import Aggregate, DomainError, applies


def ballot_id(community: str, poll: str, voter: str) -> str:
    return f"{community}.ballot.{poll}-{hashlib.sha256(voter.encode()).hexdigest()[:40]}"


class Ballot(Aggregate):
    """Every ballot a voter's DID has had in one poll; the last one is the one that counts."""

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.voter = ""
        self.cast_by = ""
        self.casts = 0

    @property
    def in_person(self) -> bool:
        return bool(self.casts) and self.cast_by == self.voter

    def cast(
        self,
        *,
        community: str,
        poll: str,
        voter: str,
        cast_by: str,
        delegation: str,
        choice: tuple[int, ...],
        ballot: dict[str, Any] | None,
        tracker: str,
        statement: Statement,
        now: int,
    ) -> None:
        if cast_by != voter and self.in_person:
            raise DomainError(
                "voted_in_person", f"{voter} voted herself; her proxy cannot replace her ballot"
            )
        self.trigger(
            BallotCast,
            now,
            community=community,
            poll=poll,
            voter=voter,
            cast_by=cast_by,
            delegation=delegation,
            choice=choice,
            ballot=ballot,
            tracker=tracker,
            statement=statement,
        )

    @applies(BallotCast)
    def _cast(self, event: BallotCast) -> None:
        self.voter, self.cast_by = event.voter, event.cast_by
        self.casts += 1
