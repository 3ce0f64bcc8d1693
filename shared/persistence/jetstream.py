"""JetStream persistence for the eventsourcing library: `PERSISTENCE_MODULE=shared.persistence.jetstream`.

Settings (read from the application's environment, optionally prefixed with its name):

- `NATS_URL` — server URL(s), comma-separated (default `nats://127.0.0.1:4222`).
- `NATS_STREAM` — the stream (default: the application name, upper-cased); its subjects are
  `<prefix>.>` with `NATS_SUBJECT_PREFIX` (default: the stream name lower-cased).
- `NATS_COMMUNITY` — community token for aggregates whose id does not name one (default `_`).
- `NATS_REPLICAS` (default 1), `NATS_DUPLICATE_WINDOW` seconds (default 120), `NATS_TIMEOUT`
  seconds (default 10).
- `NATS_SIGNING_KEY` (hex Ed25519 seed) or `NATS_SIGNING_KEY_FILE` (created on first use): the
  service instance key that signs every commit; without either, a fresh key per process.

An aggregate id that is a string `<community>.<aggregate>.<id>` is stored on the subject
`<prefix>.<community>.<aggregate>.<id>`; any other id (a UUID, say) on
`<prefix>.<NATS_COMMUNITY>.agg.<id>`. Notification ids are `stream_sequence * 1_000_000 + i`
for the i-th event of the commit stored at that sequence (see docs/decisions/0002).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import nats
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    Notification,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.utils import Environment, resolve_topic
from nats.aio.client import Client as NATS

from shared.envelope import Commit, EventRecord, TrackingPosition
from shared.jetstream import (
    EventStore,
    StoredCommit,
    StreamSettings,
    notification_id,
    split_notification_id,
)
from shared.persistence.bridge import LoopThread
from shared.signing import SigningKey
from shared.subjects import StreamSubjects, check_token, encode_token

__all__ = [
    "Factory",
    "JetStreamAggregateRecorder",
    "JetStreamApplicationRecorder",
    "JetStreamConnection",
    "JetStreamProcessRecorder",
    "JetStreamSubscription",
    "JetStreamTrackingRecorder",
]

_NAMED_ID = re.compile(r"^([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\-]+)\.([A-Za-z0-9_\-]+)$")
_SELECT_PAGE = 500


class JetStreamConnection:
    """One NATS connection on a loop thread, shared by a factory's recorders."""

    def __init__(self, url: str, timeout: float) -> None:
        self.timeout = timeout
        self.bridge = LoopThread()
        try:
            self.nc: NATS = self.bridge.run(
                nats.connect(
                    servers=url.split(","),
                    name="cos-eventsourcing",
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.25,
                    connect_timeout=timeout,
                ),
                timeout=timeout * 3,
            )
        except BaseException:
            self.bridge.stop()
            raise

    def run(self, coro: Any) -> Any:
        return self.bridge.run(coro, timeout=self.timeout * 6)

    def close(self) -> None:
        self.bridge.stop(final=self.nc.close())


class _Recorder:
    """What every JetStream recorder holds: the connection, the event store, id mapping."""

    def __init__(self, connection: JetStreamConnection, store: EventStore, community: str) -> None:
        self.connection = connection
        self.store = store
        self.community = community

    def _locate(self, originator_id: UUID | str) -> tuple[str, str, str, str]:
        """(community, aggregate, id token, id kind) of an originator id."""
        if isinstance(originator_id, UUID):
            return self.community, "agg", originator_id.hex, "uuid"
        if match := _NAMED_ID.match(originator_id):
            community, aggregate, ident = match.groups()
            return community, aggregate, ident, "str"
        return self.community, "agg", encode_token(originator_id), "str"

    def _subject(self, originator_id: UUID | str) -> str:
        community, aggregate, ident, _ = self._locate(originator_id)
        return self.store.subjects.aggregate(community, aggregate, ident)

    def _commits(self, stored_events: Sequence[StoredEvent]) -> list[Commit]:
        groups: dict[UUID | str, list[StoredEvent]] = {}
        for event in stored_events:
            groups.setdefault(event.originator_id, []).append(event)
        commits = []
        for originator_id, events in groups.items():
            versions = [e.originator_version for e in events]
            if len(set(versions)) != len(versions):
                raise IntegrityError(f"duplicate versions {versions} for {originator_id}")
            if versions != sorted(versions):
                raise IntegrityError(f"versions {versions} for {originator_id} are not in order")
            community, aggregate, ident, kind = self._locate(originator_id)
            commits.append(
                self.store.new_commit(
                    community=community,
                    aggregate=aggregate,
                    ident=ident,
                    originator_id=str(originator_id),
                    originator_id_kind=kind,
                    events=[EventRecord(e.topic, e.originator_version, e.state) for e in events],
                )
            )
        return commits

    def _insert(self, stored_events: Sequence[StoredEvent], tracking: Tracking | None) -> list[int]:
        commits = self._commits(stored_events)
        position = (
            TrackingPosition(tracking.application_name, tracking.notification_id)
            if tracking is not None
            else None
        )
        seqs = self.connection.run(self.store.append(commits, position))
        ids_by_event: dict[tuple[str, int], int] = {}
        for commit, seq in zip(commits, seqs, strict=True):
            for index, record in enumerate(commit.events):
                ids_by_event[(commit.originator_id, record.version)] = notification_id(seq, index)
        return [ids_by_event[(str(e.originator_id), e.originator_version)] for e in stored_events]


def _originator(commit: Commit) -> UUID | str:
    return UUID(commit.originator_id) if commit.originator_id_kind == "uuid" else commit.originator_id


def _notifications(stored: StoredCommit) -> list[Notification]:
    originator_id = _originator(stored.commit)
    return [
        Notification(
            id=notification_id(stored.seq, index),
            originator_id=originator_id,
            originator_version=record.version,
            topic=record.topic,
            state=record.state,
        )
        for index, record in enumerate(stored.commit.events)
    ]


class JetStreamAggregateRecorder(_Recorder, AggregateRecorder):
    """Stores each `insert_events` call as one signed commit per aggregate, atomically."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if stored_events:
            self._insert(stored_events, None)
        return None

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        commits: list[StoredCommit] = self.connection.run(
            self.store.read_aggregate(self._subject(originator_id))
        )
        events = [
            StoredEvent(
                originator_id=originator_id,
                originator_version=record.version,
                topic=record.topic,
                state=record.state,
            )
            for stored in commits
            for record in stored.commit.events
            if (gt is None or record.version > gt) and (lte is None or record.version <= lte)
        ]
        if desc:
            events.reverse()
        return events[:limit] if limit is not None else events


class JetStreamApplicationRecorder(JetStreamAggregateRecorder, ApplicationRecorder):
    """Adds the application sequence: notifications in stream order, and subscriptions."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return []
        return self._insert(stored_events, None)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        traced = self.select_traced_notifications(
            start, limit, stop, topics, inclusive_of_start=inclusive_of_start
        )
        return [notification for notification, _ in traced]

    def select_traced_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> list[tuple[Notification, Mapping[str, str]]]:
        """As `select_notifications`, each with the trace context stored with its commit (W3C
        `traceparent`/`tracestate`, empty when the command was not traced), for projections that
        continue the command's trace when they apply it."""
        lowest = 0 if start is None else (start if inclusive_of_start else start + 1)
        seq = max(split_notification_id(lowest)[0], 1)
        stop_seq = None if stop is None else split_notification_id(stop)[0]
        results: list[tuple[Notification, Mapping[str, str]]] = []
        while len(results) < limit:
            page: list[StoredCommit] = self.connection.run(
                self.store.read_commits(seq, limit=_SELECT_PAGE, stop_seq=stop_seq)
            )
            if not page:
                break
            for stored in page:
                for notification in _notifications(stored):
                    if notification.id < lowest or (stop is not None and notification.id > stop):
                        continue
                    if topics and notification.topic not in topics:
                        continue
                    results.append((notification, stored.trace))
                    if len(results) == limit:
                        return results
            seq = page[-1].seq + 1
            if len(page) < _SELECT_PAGE:
                break
        return results

    def max_notification_id(self) -> int | None:
        last: StoredCommit | None = self.connection.run(self.store.last_commit())
        if last is None:
            return None
        return notification_id(last.seq, len(last.commit.events) - 1)

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return JetStreamSubscription(self, gt=gt, topics=topics)


class JetStreamSubscription(Subscription[JetStreamApplicationRecorder]):
    """Notifications after `gt`, then new ones as they are stored, from an ordered consumer."""

    _QUEUE_SIZE = 5000

    def __init__(
        self,
        recorder: JetStreamApplicationRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._queue: queue.Queue[Notification | BaseException | None] = queue.Queue(self._QUEUE_SIZE)
        self._pump = recorder.connection.bridge.submit(self._run())

    async def _run(self) -> None:
        gt = self._last_notification_id
        start_seq = 1 if gt is None else max(split_notification_id(gt)[0], 1)
        try:
            async for stored in self._recorder.store.subscribe(start_seq):
                for notification in _notifications(stored):
                    if gt is not None and notification.id <= gt:
                        continue
                    if self._topics and notification.topic not in self._topics:
                        continue
                    while True:  # backpressure without blocking the loop thread
                        try:
                            self._queue.put_nowait(notification)
                            break
                        except queue.Full:
                            await asyncio.sleep(0.005)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - handed to the iterating thread, raised there
            self._queue.put(exc)

    def stop(self) -> None:
        super().stop()
        self._pump.cancel()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)

    def __next__(self) -> Notification:
        while not self._has_been_stopped:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is None:
                break
            if isinstance(item, BaseException):
                self.stop()
                raise item
            self._last_notification_id = item.id
            return item
        raise StopIteration


class JetStreamTrackingRecorder(_Recorder, TrackingRecorder):
    """Tracking positions as signed markers on `<prefix>._tracking.<application>`."""

    def insert_tracking(self, tracking: Tracking) -> None:
        self._insert([], tracking)

    def max_tracking_id(self, application_name: str) -> int | None:
        result: int | None = self.connection.run(self.store.max_tracking_id(application_name))
        return result


class JetStreamProcessRecorder(JetStreamTrackingRecorder, JetStreamApplicationRecorder, ProcessRecorder):
    """Commits and the tracking position that produced them, in one atomic batch."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        tracking: Tracking | None = kwargs.get("tracking")
        if not stored_events and tracking is None:
            return []
        return self._insert(stored_events, tracking)


class Factory(InfrastructureFactory[JetStreamTrackingRecorder]):
    """Builds JetStream recorders for an eventsourcing application from its environment."""

    NATS_URL = "NATS_URL"
    NATS_STREAM = "NATS_STREAM"
    NATS_SUBJECT_PREFIX = "NATS_SUBJECT_PREFIX"
    NATS_COMMUNITY = "NATS_COMMUNITY"
    NATS_REPLICAS = "NATS_REPLICAS"
    NATS_DUPLICATE_WINDOW = "NATS_DUPLICATE_WINDOW"
    NATS_TIMEOUT = "NATS_TIMEOUT"
    NATS_SIGNING_KEY = "NATS_SIGNING_KEY"
    NATS_SIGNING_KEY_FILE = "NATS_SIGNING_KEY_FILE"

    def __init__(self, env: Environment | Any) -> None:
        super().__init__(env)
        name = re.sub(r"[^A-Za-z0-9_\-]", "", self.env.name or "") or "EVENTS"
        self.stream_name = check_token(self.env.get(self.NATS_STREAM) or name.upper(), "stream")
        self.prefix = check_token(
            self.env.get(self.NATS_SUBJECT_PREFIX) or self.stream_name.lower(), "subject prefix"
        )
        self.community = check_token(self.env.get(self.NATS_COMMUNITY) or "_", "community")
        self.replicas = int(self.env.get(self.NATS_REPLICAS) or 1)
        self.duplicate_window = float(self.env.get(self.NATS_DUPLICATE_WINDOW) or 120)
        self.timeout = float(self.env.get(self.NATS_TIMEOUT) or 10)
        self.key = self._signing_key()
        self.connection = JetStreamConnection(
            self.env.get(self.NATS_URL) or "nats://127.0.0.1:4222", self.timeout
        )
        self._stores: dict[str, EventStore] = {}

    def _signing_key(self) -> SigningKey:
        if seed := self.env.get(self.NATS_SIGNING_KEY):
            return SigningKey(bytes.fromhex(seed))
        if path := self.env.get(self.NATS_SIGNING_KEY_FILE):
            return SigningKey.load_or_create(Path(path))
        return SigningKey.generate()

    def _store(self, purpose: str = "events") -> EventStore:
        if purpose not in self._stores:
            if purpose == "events":
                subjects = StreamSubjects(self.stream_name, self.prefix)
            else:
                token = check_token(purpose, "recorder purpose")
                subjects = StreamSubjects(
                    f"{self.stream_name}_{token.upper()}", f"{self.prefix}_{token.lower()}"
                )
            settings = StreamSettings(
                subjects, replicas=self.replicas, duplicate_window_s=self.duplicate_window
            )
            store = EventStore(self.connection.nc, settings, self.key, timeout=self.timeout)
            self.connection.run(store.start())
            self._stores[purpose] = store
        return self._stores[purpose]

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        return JetStreamAggregateRecorder(self.connection, self._store(purpose), self.community)

    def application_recorder(self) -> ApplicationRecorder:
        return JetStreamApplicationRecorder(self.connection, self._store(), self.community)

    def tracking_recorder(
        self, tracking_recorder_class: type[JetStreamTrackingRecorder] | None = None
    ) -> JetStreamTrackingRecorder:
        if tracking_recorder_class is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            tracking_recorder_class = resolve_topic(topic) if topic else JetStreamTrackingRecorder
        assert tracking_recorder_class is not None
        return tracking_recorder_class(self.connection, self._store(), self.community)

    def process_recorder(self) -> ProcessRecorder:
        return JetStreamProcessRecorder(self.connection, self._store(), self.community)

    def close(self) -> None:
        for store in self._stores.values():
            with contextlib.suppress(Exception):
                self.connection.run(store.close())
        self._stores.clear()
        self.connection.close()
