"""The social application: loads and saves posts, feed rules, relationships, introductions, vault items."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from eventsourcing.persistence import IntegrityError

from services.social.domain.events import REGISTRY
from shared.application import NotFound, ServiceApplication
from shared.domain import Aggregate, DomainError, Event
from shared.retry import Conflict
from shared.subjects import RESERVED_NAMES, RESERVED_PREFIX, InvalidSubject, check_token

A = TypeVar("A", bound=Aggregate)


def token(value: str, what: str) -> str:
    """A community slug or an id chosen by a client must be a subject token (and a community
    not a name reserved for infrastructure)."""
    try:
        checked = check_token(value, what)
    except InvalidSubject as exc:
        raise DomainError("invalid_request", str(exc)) from exc
    if what == "community" and (
        (checked.startswith(RESERVED_PREFIX) and checked != "_") or checked in RESERVED_NAMES
    ):
        raise DomainError("invalid_request", f"community {checked!r} is a reserved name")
    return checked


class SocialApplication(ServiceApplication):
    registry: ClassVar = REGISTRY

    def find(self, aggregate_class: type[A], aggregate_id: str) -> A | None:
        try:
            return self.load(aggregate_class, aggregate_id)
        except NotFound:
            return None

    def history(self, aggregate_id: str) -> list[Event]:
        return [event for event in self.events.get(aggregate_id) if isinstance(event, Event)]

    def save_or_conflict(self, *aggregates: Any) -> None:
        """Save as one atomic batch; a concurrent change is a typed refusal, nothing recorded."""
        try:
            self.save(*aggregates)
        except IntegrityError as exc:
            raise Conflict("conflict", "changed concurrently; nothing was recorded, try again") from exc
