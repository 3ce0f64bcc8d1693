"""Keeps in-memory read models level with the application's log, from any tracking position.

Each read model remembers the last notification id it applied, so catching up after a restart,
or twice, never applies an event twice; a fresh model rebuilds from sequence 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from eventsourcing.application import Application

from shared.domain import Event

PAGE = 500
R = TypeVar("R")


class ReadModel(Protocol):
    position: int

    def apply(self, event: Event) -> None: ...


class CatchUp:
    """Pulls new notifications from the application's recorder and hands them to each read model."""

    def __init__(self, app: Application[str], models: Sequence[ReadModel]) -> None:
        self._app = app
        self._models = list(models)
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self._catch_up()

    def query(self, read: Callable[[], R]) -> R:
        """Catch up, then read the models while no other thread changes them."""
        with self._lock:
            self._catch_up()
            return read()

    def _catch_up(self) -> int:
        start = min((m.position for m in self._models), default=0)
        while True:
            page = self._app.recorder.select_notifications(start=start, limit=PAGE, inclusive_of_start=False)
            for notification in page:
                event = self._app.mapper.to_domain_event(notification)
                for model in self._models:
                    if notification.id > model.position:
                        if isinstance(event, Event):
                            model.apply(event)
                        model.position = notification.id
                start = notification.id
            if len(page) < PAGE:
                return start
