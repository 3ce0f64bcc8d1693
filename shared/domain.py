"""Pure building blocks for aggregates: tagged msgspec events, an aggregate base, typed refusals.

No clock, no randomness, no I/O: a command method is given `now` (Unix ns) and ids by its caller,
so the same history and command always decide the same events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self, TypeVar

import msgspec

__all__ = ["Aggregate", "DomainError", "Event", "applies"]


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """A past-tense fact about one aggregate. Subclasses set `tag="<service>.<fact>.v<n>"`."""

    originator_id: str
    originator_version: int
    occurred_ns: int


class DomainError(Exception):
    """A command refused by a business rule; `code` is stable, `message` says why to a person."""

    status: ClassVar[int] = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


E = TypeVar("E", bound=Event)
A = TypeVar("A", bound="Aggregate")


def applies(event_class: type[E]) -> Callable[[Callable[[A, E], None]], Callable[[A, E], None]]:
    """Mark an aggregate method as the one that applies `event_class` to the aggregate's state."""

    def mark(method: Callable[[A, E], None]) -> Callable[[A, E], None]:
        method.__applies__ = event_class  # type: ignore[attr-defined]
        return method

    return mark


class Aggregate:
    """State rebuilt from its own events; commands decide new events and apply them at once."""

    _appliers: ClassVar[dict[type[Event], Callable[[Any, Any], None]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        appliers: dict[type[Event], Callable[[Any, Any], None]] = {}
        for base in reversed(cls.__mro__):
            for value in vars(base).values():
                event_class = getattr(value, "__applies__", None)
                if event_class is not None:
                    appliers[event_class] = value
        cls._appliers = appliers

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0
        self._pending: list[Event] = []

    def _apply(self, event: Event) -> None:
        applier = self._appliers.get(type(event))
        if applier is None:
            raise TypeError(f"{type(self).__name__} does not apply {type(event).__name__}")
        applier(self, event)
        self.version = event.originator_version

    def trigger(self, event_class: type[E], now: int, **fields: Any) -> E:
        """Decide a new event: number it after the current version, apply it, keep it pending."""
        event = event_class(
            originator_id=self.id, originator_version=self.version + 1, occurred_ns=now, **fields
        )
        self._apply(event)
        self._pending.append(event)
        return event

    def collect_events(self) -> list[Event]:
        """The events decided since the last call (what the application records)."""
        events, self._pending = self._pending, []
        return events

    @classmethod
    def replay(cls, aggregate: Self | None, events: Iterable[Event]) -> Self | None:
        """Rebuild from history; the projector function the library's repository calls."""
        for event in events:
            if aggregate is None:
                aggregate = cls(event.originator_id)
            aggregate._apply(event)
        return aggregate
