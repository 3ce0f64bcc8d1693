"""The governance application: loads and saves polls, ballots, delegations and settings."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError

from services.governance.domain.events import REGISTRY
from shared.application import ServiceApplication
from shared.domain import Event
from shared.retry import Conflict


class GovernanceApplication(ServiceApplication):
    registry: ClassVar = REGISTRY

    def history(self, aggregate_id: str) -> list[Event]:
        return [event for event in self.events.get(aggregate_id) if isinstance(event, Event)]

    def save_or_conflict(self, *aggregates: Any) -> None:
        """Save as one atomic batch; a concurrent change raises `Conflict` and nothing is recorded
        (a signed command is then run again on the fresh state, `shared/retry.py`)."""
        try:
            self.save(*aggregates)
        except IntegrityError as exc:
            raise Conflict("conflict", "changed concurrently; nothing was recorded, try again") from exc
