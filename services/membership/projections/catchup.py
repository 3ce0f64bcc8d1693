"""Keeps in-memory read models level with the application's log, from any tracking position.

Each read model remembers the last notification id it applied, so catching up after a restart,
or twice, never applies an event twice; a fresh model rebuilds from sequence 0.

When the log keeps the trace context of the command that stored a commit (the JetStream recorder
does), applying that commit is a span in the command's trace; the lag of the read models behind
the log is reported as `cos.consumer.lag`.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from shared.domain import Event
from shared.jetstream import split_notification_id
from shared.telemetry import extract_context, instruments, register_consumer_lag, span_in_context

PAGE = 500
R = TypeVar("R")
_NO_TRACE: Mapping[str, str] = {}


class ReadModel(Protocol):
    position: int

    def apply(self, event: Event) -> None: ...


class CatchUp:
    """Pulls new notifications from the application's recorder and hands them to each read model."""

    def __init__(self, app: Application[str], models: Sequence[ReadModel], name: str = "projections") -> None:
        self._app = app
        self._models = list(models)
        self._lock = threading.Lock()
        store = getattr(app.recorder, "store", None)
        self._stream = store.subjects.stream if store is not None else app.name.upper()
        self.name = f"{self._stream.lower()}.{name}"
        self._traced = getattr(app.recorder, "select_traced_notifications", None)
        this = weakref.ref(self)

        def measure() -> int | None:
            catch_up = this()
            return None if catch_up is None else catch_up.lag()

        register_consumer_lag(self.name, self._stream, measure, owner=self)

    def __call__(self) -> int:
        """Apply everything recorded so far; returns the position reached."""
        with self._lock:
            return self._catch_up()

    def query(self, read: Callable[[], R]) -> R:
        """Catch up, then read the models while no other thread changes them."""
        with self._lock:
            self._catch_up()
            return read()

    @property
    def position(self) -> int:
        """The notification id every read model has applied."""
        return min((m.position for m in self._models), default=0)

    def lag(self) -> int:
        """How many stream sequences the slowest read model is behind the log."""
        last = self._app.recorder.max_notification_id() or 0
        if self._traced is None:
            return max(last - self.position, 0)
        return max(split_notification_id(last)[0] - split_notification_id(self.position)[0], 0)

    def _page(self, start: int) -> Sequence[tuple[Notification, Mapping[str, str]]]:
        if self._traced is not None:
            traced: Sequence[tuple[Notification, Mapping[str, str]]] = self._traced(
                start=start, limit=PAGE, inclusive_of_start=False
            )
            return traced
        page = self._app.recorder.select_notifications(start=start, limit=PAGE, inclusive_of_start=False)
        return [(notification, _NO_TRACE) for notification in page]

    def _catch_up(self) -> int:
        start = self.position
        while True:
            page = self._page(start)
            # One commit's events arrive together and share its trace context: one span per commit.
            for (_, carrier), group in itertools.groupby(page, key=self._commit_of):
                notifications = [notification for notification, _ in group]
                if carrier:
                    self._apply_traced(notifications, carrier)
                else:
                    self._apply(notifications)
                start = notifications[-1].id
            if len(page) < PAGE:
                return start

    def _commit_of(self, item: tuple[Notification, Mapping[str, str]]) -> tuple[int, Mapping[str, str]]:
        notification, carrier = item
        commit = split_notification_id(notification.id)[0] if self._traced is not None else notification.id
        return commit, carrier

    def _apply_traced(self, notifications: list[Notification], carrier: Mapping[str, str]) -> None:
        current = trace.get_current_span().get_span_context()
        with span_in_context(
            "projections",
            f"apply {self._stream}",
            parent=extract_context(carrier),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": self._stream,
                "cos.consumer": self.name,
                "cos.notification_id": notifications[0].id,
            },
            links=[Link(current)] if current.is_valid else (),
        ):
            self._apply(notifications)

    def _apply(self, notifications: list[Notification]) -> None:
        for notification in notifications:
            event = self._app.mapper.to_domain_event(notification)
            for model in self._models:
                if notification.id > model.position:
                    if isinstance(event, Event):
                        model.apply(event)
                    model.position = notification.id
        instruments().projection_commits.add(1, {"cos.consumer": self.name})
