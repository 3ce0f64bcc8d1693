"""The messaging application: loads and saves announcements, spaces, threads, posts and messages."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from eventsourcing.persistence import IntegrityError

from services.messaging.domain.events import REGISTRY
from shared.application import NotFound, ServiceApplication
from shared.domain import Aggregate, Event
from shared.retry import Conflict

A = TypeVar("A", bound=Aggregate)


class MessagingApplication(ServiceApplication):
    registry: ClassVar = REGISTRY

    def load_or_new(self, aggregate_class: type[A], aggregate_id: str) -> A:
        """The aggregate, or a fresh one to record its first event."""
        try:
            return self.load(aggregate_class, aggregate_id)
        except NotFound:
            return aggregate_class(aggregate_id)

    def find(self, aggregate_class: type[A], aggregate_id: str, code: str, what: str) -> A:
        try:
            return self.load(aggregate_class, aggregate_id)
        except NotFound:
            raise NotFound(code, f"there is no {what}") from None

    def history(self, aggregate_id: str) -> list[Event]:
        return [event for event in self.events.get(aggregate_id) if isinstance(event, Event)]

    def save_or_conflict(self, *aggregates: Any) -> list[Event]:
        """Save as one atomic commit; a concurrent change is a typed refusal. Returns what was recorded."""
        pending = [a for a in aggregates if a is not None]
        try:
            recordings = self.save(*pending)
        except IntegrityError as exc:
            raise Conflict("conflict", "changed concurrently; nothing was recorded, try again") from exc
        return [r.domain_event for r in recordings if isinstance(r.domain_event, Event)]
