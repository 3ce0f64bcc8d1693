"""Keeps in-memory read models level with the log; each model is told the notification id of each event.

The id orders events across aggregates (stream sequence * 1,000,000 + index), which is what decides
whether a ballot was cast before its poll closed. Each model remembers its position, so catching up
twice, or after a restart from 0, never applies an event twice.
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

    def apply(self, event: Event, notification_id: int) -> None: ...


class CatchUp:
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
                            model.apply(event, notification.id)
                        model.position = notification.id
                start = notification.id
            if len(page) < PAGE:
                return start
