"""Ballots per poll and voter in log order: live turnout, the ballots that count, each proxy's load."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.governance.domain.events import BallotCast, PollClosed
from shared.domain import Event


@dataclass
class PollBallots:
    by_voter: dict[str, list[tuple[int, BallotCast]]] = field(default_factory=dict)
    closed_at: int | None = None  # notification id of the close commit

    def current(self) -> dict[str, BallotCast]:
        """Each voter's latest ballot (live, while the poll is open)."""
        return {voter: casts[-1][1] for voter, casts in self.by_voter.items()}

    def counted(self) -> list[tuple[int, BallotCast]]:
        """Each voter's last ballot whose commit precedes the close commit, in log order."""
        limit = self.closed_at if self.closed_at is not None else 1 << 62
        chosen = []
        for casts in self.by_voter.values():
            before = [c for c in casts if c[0] < limit]
            if before:
                chosen.append(before[-1])
        return sorted(chosen, key=lambda c: c[0])

    def voters(self) -> int:
        """How many members have a ballot (the size of `current()`, without building it)."""
        return len(self.by_voter)

    def choosing(self, option: int) -> int:
        """How many members' latest ballot chooses exactly `option` (a count poll's ins: option 0)."""
        return sum(1 for casts in self.by_voter.values() if casts[-1][1].choice == (option,))

    def has_voted(self, voter: str) -> bool:
        return voter in self.by_voter

    def proxy_load(self, proxy: str) -> set[str]:
        """The members whose current ballot this proxy cast."""
        return {v for v, b in self.current().items() if b.cast_by == proxy and b.voter != proxy}


class BallotsView:
    def __init__(self) -> None:
        self.position = 0
        self._polls: dict[str, PollBallots] = {}

    def apply(self, event: Event, notification_id: int) -> None:
        if isinstance(event, BallotCast):
            poll = self._polls.setdefault(f"{event.community}.poll.{event.poll}", PollBallots())
            poll.by_voter.setdefault(event.voter, []).append((notification_id, event))
        elif isinstance(event, PollClosed):
            self._polls.setdefault(event.originator_id, PollBallots()).closed_at = notification_id

    def poll(self, poll_aggregate_id: str) -> PollBallots:
        return self._polls.get(poll_aggregate_id, PollBallots())
