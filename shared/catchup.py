"""Keeps in-memory read models level with an application's log, from any tracking position.

Each read model remembers the last notification id it applied, so catching up twice, or after a
restart from 0, never applies an event twice; a fresh model rebuilds from sequence 0. The lock
makes a query see the models between two events, never half-way through one.

`CatchUp` hands each model the event; `OrderedCatchUp` also hands it the notification id, which
orders events across aggregates (stream sequence * 1,000,000 + index): what decides, say, whether
a ballot was cast before its poll closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from eventsourcing.application import Application

from shared.domain import Event

PAGE = 500
R = TypeVar("R")


class ReadModel(Protocol):
    position: int

    def apply(self, event: Event) -> None: ...


class OrderedReadModel(Protocol):
    position: int

    def apply(self, event: Event, notification_id: int) -> None: ...


M = TypeVar("M", ReadModel, OrderedReadModel)


class _CatchUp(Generic[M]):
    def __init__(self, app: Application[str], models: Sequence[M]) -> None:
        self._app = app
        self._models: list[M] = list(models)
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self._catch_up()

    def query(self, read: Callable[[], R]) -> R:
        """Catch up, then read the models while no other thread changes them."""
        with self._lock:
            self._catch_up()
            return read()

    def _deliver(self, model: M, event: Event, notification_id: int) -> None:
        raise NotImplementedError

    def _catch_up(self) -> int:
        start = min((m.position for m in self._models), default=0)
        while True:
            page = self._app.recorder.select_notifications(start=start, limit=PAGE, inclusive_of_start=False)
            for notification in page:
                event = self._app.mapper.to_domain_event(notification)
                for model in self._models:
                    if notification.id > model.position:
                        if isinstance(event, Event):
                            self._deliver(model, event, notification.id)
                        model.position = notification.id
                start = notification.id
            if len(page) < PAGE:
                return start


class CatchUp(_CatchUp[ReadModel]):
    """Pulls new notifications from the application's recorder and hands them to each read model."""

    def _deliver(self, model: ReadModel, event: Event, notification_id: int) -> None:
        model.apply(event)


class OrderedCatchUp(_CatchUp[OrderedReadModel]):
    """As `CatchUp`, telling each model the notification id of each event."""

    def _deliver(self, model: OrderedReadModel, event: Event, notification_id: int) -> None:
        model.apply(event, notification_id)
