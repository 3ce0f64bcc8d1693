"""Keeps in-memory read models level with an application's log, from any tracking position.

Each read model remembers the last notification id it applied, so catching up after a restart,
or twice, never applies an event twice; a fresh model rebuilds from sequence 0.

Once `follow()` is called, a follower thread applies commits as they land: woken by the
service's subscription to the stream's commit subjects (`follow_stream`), by a query, or every
POLL_S, it reads the new commits from the log and applies them, taking the models' lock only for
one commit at a time. A query does not replay anything itself: it waits until the models have
applied the position it must see (by default the head of the log when the query arrived, or a
commit's notification id the caller passes, so a client reads its own writes), then reads under
the lock. Without a follower, a query applies what is new by itself.

`CatchUp` hands each model the event; `OrderedCatchUp` also hands it the notification id, which
orders events across aggregates (stream sequence * 1,000,000 + index): what decides, say, whether
a ballot was cast before its poll closed.

When the log keeps the trace context of the command that stored a commit (the JetStream recorder
does), applying that commit is a span in the command's trace; the lag of the read models behind
the log is reported as `cos.consumer.lag`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

import nats.errors
from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from shared.domain import Event
from shared.jetstream import split_notification_id
from shared.telemetry import extract_context, instruments, register_consumer_lag, span_in_context

PAGE = 500
POLL_S = 1.0  # how often the follower looks at the log when no subscription wakes it
WAIT_S = 30.0  # how long a query waits for the follower before applying by itself
R = TypeVar("R")
log = logging.getLogger(__name__)
_NO_TRACE: Mapping[str, str] = {}


class ReadModel(Protocol):
    position: int

    def apply(self, event: Event) -> None: ...


class OrderedReadModel(Protocol):
    position: int

    def apply(self, event: Event, notification_id: int) -> None: ...


M = TypeVar("M", ReadModel, OrderedReadModel)


class _CatchUp(Generic[M]):
    """Pulls new notifications from the application's recorder and hands them to each read model."""

    def __init__(self, app: Application[str], models: Sequence[M], name: str = "projections") -> None:
        self._app = app
        self._models: list[M] = list(models)
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
        # `_lock` guards the models (held per applied commit and per read); `_applying` lets one
        # thread at a time read the log and apply it; `_advanced` tells waiting queries of progress.
        self._applying = threading.Lock()
        self._advanced = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._follower: threading.Thread | None = None
        self._failing: Exception | None = None  # the follower's last attempt failed with this

    def __call__(self) -> int:
        """Apply everything recorded so far; returns the position reached."""
        with self._applying:
            return self._catch_up()

    def query(self, read: Callable[[], R], *, at_least: int | None = None) -> R:
        """Read the models once they hold `at_least` (default: the whole log as it is now).

        `at_least` is a notification id, e.g. of the caller's own commit (read-your-writes). The
        follower does the applying; without one (or if it stalls) the query applies by itself.
        """
        target = self.head() if at_least is None else at_least
        if not self._reached(target):
            self._wait_for(target)
        with self._lock:
            return read()

    def head(self) -> int:
        """The notification id of the last event in the log (0 when empty)."""
        return self._app.recorder.max_notification_id() or 0

    def _reached(self, target: int) -> bool:
        position = self.position
        if self._traced is not None:
            return split_notification_id(position)[0] >= split_notification_id(target)[0]
        return position >= target

    def _wait_for(self, target: int) -> None:
        follower = self._follower
        if follower is not None and follower.is_alive():
            self._wake.set()
            with self._advanced:
                reached = self._advanced.wait_for(
                    lambda: self._reached(target) or self._failing is not None, timeout=WAIT_S
                )
            if reached and self._failing is None:
                return
            if self._failing is None:
                log.warning(
                    "%s: the follower did not reach %s in %ss; applying inline", self.name, target, WAIT_S
                )
        # No follower, a stalled one, or one that fails to apply the log: this query applies it
        # itself, so it answers, or fails with the reason, at once rather than after WAIT_S.
        self()

    # -- following the log -----------------------------------------------------------------------

    def follow(self) -> None:
        """Start applying commits as they land (after catching up), until `stop()`.

        Call `wake()` whenever a commit is seen on the stream (the service subscribes to the
        stream's commit subjects); the follower also looks at the log every POLL_S, so a missed
        signal delays a commit, never loses it.
        """
        if self._follower is not None:
            return
        self()
        self._stopped.clear()
        self._follower = threading.Thread(target=self._follow, name=f"{self.name}-follower", daemon=True)
        self._follower.start()

    @property
    def following(self) -> bool:
        """Whether a follower applies commits as they land (so the models are at most moments behind)."""
        follower = self._follower
        return follower is not None and follower.is_alive() and self._failing is None

    def wake(self) -> None:
        """A commit landed: let the follower apply it now (cheap, callable from any thread)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop following (the models keep what they applied; a query then applies by itself)."""
        self._stopped.set()
        self._wake.set()
        if self._follower is not None:
            self._follower.join(timeout=5)
            self._follower = None

    def _follow(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(timeout=POLL_S)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self()
            except Exception as exc:
                if self._stopped.is_set():
                    return
                log.exception("%s: applying the log failed; retrying", self.name)
                with self._advanced:  # waiting queries stop waiting and apply (and fail) themselves
                    self._failing = exc
                    self._advanced.notify_all()
                self._stopped.wait(POLL_S)
            else:
                self._failing = None

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
        events = [(n.id, self._app.mapper.to_domain_event(n)) for n in notifications]
        with self._advanced:  # one commit at a time: queries read between commits, never inside one
            for notification_id, event in events:
                for model in self._models:
                    if notification_id > model.position:
                        if isinstance(event, Event):
                            self._deliver(model, event, notification_id)
                        model.position = notification_id
            self._advanced.notify_all()
        instruments().projection_commits.add(1, {"cos.consumer": self.name})

    def _deliver(self, model: M, event: Event, notification_id: int) -> None:
        raise NotImplementedError


class CatchUp(_CatchUp[ReadModel]):
    """Hands each read model every new event of the log, in order."""

    def _deliver(self, model: ReadModel, event: Event, notification_id: int) -> None:
        model.apply(event)


class OrderedCatchUp(_CatchUp[OrderedReadModel]):
    """As `CatchUp`, telling each model the notification id of each event."""

    def _deliver(self, model: OrderedReadModel, event: Event, notification_id: int) -> None:
        model.apply(event, notification_id)


Following = CatchUp | OrderedCatchUp


async def follow_stream(nc: NATS, catch_up: Following, commits: str) -> Subscription:
    """Catch up, start the follower, and wake it on every commit published on `commits` (the
    stream's commit subjects). Stop with `unfollow_stream`."""
    await asyncio.to_thread(catch_up.follow)
    return await nc.subscribe(commits, cb=_waker(catch_up.wake))


async def unfollow_stream(catch_up: Following, landed: Subscription | None) -> None:
    if landed is not None:
        with contextlib.suppress(nats.errors.Error):  # the connection may already be closing
            await landed.unsubscribe()
    await asyncio.to_thread(catch_up.stop)


def _waker(wake: Callable[[], None]) -> Callable[[Msg], Awaitable[None]]:
    async def on_commit(_: Msg) -> None:
        wake()

    return on_commit
