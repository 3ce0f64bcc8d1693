"""The governance application: loads and saves polls, ballots, delegations and settings."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError

from services.governance.domain.events import REGISTRY
from shared.application import ServiceApplication
from shared.domain import DomainError, Event


class GovernanceApplication(ServiceApplication):
    registry: ClassVar = REGISTRY

    def history(self, aggregate_id: str) -> list[Event]:
        return [event for event in self.events.get(aggregate_id) if isinstance(event, Event)]

    def save_or_conflict(self, *aggregates: Any) -> None:
        """Save as one atomic batch; a concurrent change is a typed refusal and nothing is recorded."""
        try:
            self.save(*aggregates)
        except IntegrityError as exc:
            raise DomainError("conflict", "changed concurrently; nothing was recorded, try again") from exc
