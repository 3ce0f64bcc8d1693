"""The event store: signed commits appended with per-aggregate optimistic concurrency, read back verified.

One command's events for one aggregate form one commit, stored as one JetStream message on the
aggregate's subject. Appends are guarded by `Nats-Expected-Last-Subject-Sequence` (the stream
sequence of the aggregate's last commit) and made idempotent by `Nats-Msg-Id` = commit id. Several
commits (several aggregates, or a process application's commits plus its tracking position) are
stored as one JetStream atomic batch, so they land together or not at all.

Notification ids: the event at position `i` of the commit stored at stream sequence `s` has
notification id `s * NOTIFICATION_STRIDE + i`. The stream sequence is the id's leading part, ids
grow in stream order, and every event of a multi-event commit has its own id.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from nats.aio.client import Client as NATS
from nats.js.api import ConsumerConfig, DeliverPolicy
from opentelemetry.trace import SpanKind

from shared.envelope import (
    Commit,
    EnvelopeError,
    EventRecord,
    TrackingMarker,
    TrackingPosition,
    distinct_topics,
    open_envelope,
    peek_body,
    seal,
)
from shared.jetstream.errors import (
    BATCH_DUPLICATE_MSG_ID,
    WRONG_LAST_SEQUENCE,
    CommitTooLarge,
    ConcurrencyConflict,
    JetStreamAPIError,
    JetStreamError,
    PublishTimeout,
    StreamNotFound,
)
from shared.jetstream.publisher import OutgoingMessage, Publisher
from shared.jetstream.reader import RawMessage, StreamReader
from shared.jetstream.sealer import Sealer
from shared.jetstream.streams import StreamSettings, ensure_stream, stream_info
from shared.signing import SigningKey
from shared.telemetry import (
    instruments,
    propagated_context,
    span_in_context,
    trace_headers,
    tracing_installed,
)

__all__ = [
    "NOTIFICATION_STRIDE",
    "AggregateHead",
    "EventStore",
    "StoredCommit",
    "notification_id",
    "split_notification_id",
]

NOTIFICATION_STRIDE = 1_000_000
MAX_ATTEMPTS = 6


_ID_PREFIX = int.from_bytes(os.urandom(8), "big") << 64
_ID_COUNTER = itertools.count()
# The id's first three groups are the random prefix; only the last two (the counter) change.
_ID_HEAD = str(uuid.UUID(int=_ID_PREFIX))[:19]


def _new_commit_id() -> str:
    """A UUID-shaped id, unique per process (random prefix) and cheap (no syscall per commit).

    The same string as `str(uuid.UUID(int=_ID_PREFIX | n))`, formatted without a UUID object.
    """
    n = next(_ID_COUNTER)
    return f"{_ID_HEAD}{(n >> 48) & 0xFFFF:04x}-{n & 0xFFFFFFFFFFFF:012x}"


def notification_id(seq: int, index: int) -> int:
    return seq * NOTIFICATION_STRIDE + index


def split_notification_id(nid: int) -> tuple[int, int]:
    """(stream sequence, position in commit) of a notification id."""
    return divmod(nid, NOTIFICATION_STRIDE)


@dataclass(frozen=True)
class AggregateHead:
    """Where an aggregate's history ends: the last commit's stream sequence, version and id."""

    last_seq: int = 0
    last_version: int | None = None
    last_commit_id: str | None = None


NEW_AGGREGATE = AggregateHead()


@dataclass(frozen=True)
class StoredCommit:
    """A commit as read back: where it is in the stream and the exact bytes stored."""

    seq: int
    subject: str
    commit: Commit
    data: bytes
    trace: dict[str, str] = field(default_factory=dict)
    """The W3C trace context of the command that stored the commit (`traceparent`), if traced."""

    def notification_ids(self) -> list[int]:
        return [notification_id(self.seq, i) for i in range(len(self.commit.events))]


@dataclass(frozen=True)
class _TrackingHead:
    last_seq: int = 0
    notification_id: int | None = None


class EventStore:
    """Append and read signed commits of one service's stream (asyncio; see `shared.persistence`
    for the synchronous recorders the eventsourcing library uses)."""

    def __init__(
        self,
        nc: NATS,
        settings: StreamSettings,
        key: SigningKey,
        *,
        timeout: float = 10.0,
        head_cache_size: int = 100_000,
        verify_reads: bool = True,
    ) -> None:
        self.nc = nc
        self.settings = settings
        self.subjects = settings.subjects
        self.key = key
        self.verify_reads = verify_reads
        self._publisher = Publisher(nc, timeout)
        self._sealer = Sealer(key)
        self._reader = StreamReader(nc, settings.subjects.stream, timeout)
        self._heads: OrderedDict[str, AggregateHead] = OrderedDict()
        self._head_cache_size = head_cache_size
        self._aggregate_subjects: dict[tuple[str, str, str], str] = {}
        self._high_water = 0  # highest sequence this store wrote or read: read-your-writes floor

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, *, provision: bool = True) -> EventStore:
        if provision:
            await ensure_stream(self.nc, self.settings)
        await self._publisher.start()
        return self

    async def close(self) -> None:
        await self._publisher.close()
        self._sealer.close()

    # -- building commits ------------------------------------------------------------------

    def new_commit(
        self,
        *,
        community: str,
        aggregate: str,
        ident: str,
        originator_id: str,
        events: Sequence[EventRecord],
        originator_id_kind: str = "str",
        commit_id: str | None = None,
    ) -> Commit:
        """A commit of `events` for the aggregate `<community>.<aggregate>.<ident>`, signed by us."""
        records = list(events)
        if not records:
            raise ValueError("a commit needs at least one event")
        # Checking the subject's tokens costs more than the rest of the commit: remember the
        # subjects already built (a pure function of the three names; bounded like the heads).
        names = (community, aggregate, ident)
        subject = self._aggregate_subjects.get(names)
        if subject is None:
            subject = self.subjects.aggregate(community, aggregate, ident)
            if len(self._aggregate_subjects) >= self._head_cache_size:
                self._aggregate_subjects.clear()
            self._aggregate_subjects[names] = subject
        single = len(records) == 1
        commit = Commit(
            commit_id=commit_id or _new_commit_id(),
            community=community,
            subject=subject,
            originator_id=originator_id,
            originator_id_kind="uuid" if originator_id_kind == "uuid" else "str",
            first_version=records[0].version,
            last_version=records[-1].version,
            event_types=[records[0].topic] if single else distinct_topics(records),
            timestamp_ns=time.time_ns(),
            signer=self.key.key_id,
            events=records,
        )
        if not single and any(b <= a for a, b in itertools.pairwise(r.version for r in records)):
            return commit.validate()  # raises InvalidCommit naming the versions
        return commit  # the subject and event types were built from checked parts

    # -- heads -----------------------------------------------------------------------------

    def _remember(self, subject: str, head: AggregateHead) -> None:
        current = self._heads.get(subject)
        if current is not None and current.last_seq > head.last_seq:
            return
        self._heads[subject] = head
        self._heads.move_to_end(subject)
        while len(self._heads) > self._head_cache_size:
            self._heads.popitem(last=False)

    def _see(self, seq: int) -> None:
        self._high_water = max(self._high_water, seq)

    async def head(self, subject: str, *, refresh: bool = False) -> AggregateHead:
        """The aggregate's last commit (cached; `refresh` asks the server)."""
        if not refresh and (cached := self._heads.get(subject)) is not None:
            return cached
        raw = await self._reader.last(subject, min_last_seq=self._high_water)
        if raw is None:
            head = NEW_AGGREGATE
        else:
            _, body = peek_body(raw.data)
            assert isinstance(body, Commit)
            head = AggregateHead(raw.seq, body.last_version, body.commit_id)
            self._see(raw.seq)
        self._heads.pop(subject, None)
        self._remember(subject, head)
        return head

    async def _tracking_head(self, application_name: str) -> _TrackingHead:
        raw = await self._reader.last(self.subjects.tracking(application_name), min_last_seq=self._high_water)
        if raw is None:
            return _TrackingHead()
        _, body = peek_body(raw.data)
        assert isinstance(body, TrackingMarker)
        self._see(raw.seq)
        return _TrackingHead(raw.seq, body.notification_id)

    async def max_tracking_id(self, application_name: str) -> int | None:
        return (await self._tracking_head(application_name)).notification_id

    # -- appending -------------------------------------------------------------------------

    async def append(
        self,
        commits: Sequence[Commit],
        tracking: TrackingPosition | None = None,
        *,
        assume_new_from_version: int | None = 1,
    ) -> list[int]:
        """Store `commits` (one per aggregate) and `tracking` atomically; return their sequences.

        Raises ConcurrencyConflict when a version (or tracking position) is already recorded.
        A commit whose first version is `assume_new_from_version` or lower is first tried as the
        aggregate's first commit without asking the server, saving a round trip; the server's
        expected-sequence check keeps that safe.
        """
        if len(commits) > 1 and len({c.subject for c in commits}) != len(commits):
            raise ValueError("one commit per aggregate in a single append")
        if not commits and tracking is None:
            return []
        if not tracing_installed():  # the hot path of benchmarks and tools: no span, no metric
            return await self._append(commits, tracking, assume_new_from_version)
        started = time.perf_counter()
        outcome = "error"
        with span_in_context(
            "eventstore",
            f"append {self.subjects.stream}",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": self.subjects.stream,
                "cos.commits": len(commits),
            },
        ) as span:
            try:
                seqs = await self._append(commits, tracking, assume_new_from_version)
                outcome = "ok"
            except ConcurrencyConflict:
                outcome = "conflict"
                raise
            finally:
                instruments().append_duration.record(
                    time.perf_counter() - started,
                    {"cos.stream": self.subjects.stream, "cos.outcome": outcome},
                )
            if seqs:
                span.set_attribute("cos.stream_sequence", seqs[-1])
            return seqs

    async def _append(
        self,
        commits: Sequence[Commit],
        tracking: TrackingPosition | None,
        assume_new_from_version: int | None,
    ) -> list[int]:
        # The append span's context travels in the headers and is stored with the message, so
        # whoever applies the commit later continues the trace of the command that made it.
        trace_context = propagated_context()
        if self._sealer.threaded:
            sealed = [await self._sealer.seal(c) for c in commits]
        else:  # inline signing (the default, docs/decisions/0004): no coroutine per commit
            sealed = [seal(c, self.key) for c in commits]
        marker_data: bytes | None = None
        marker_id = ""
        if tracking is not None:
            marker_id = str(uuid.uuid4())
            marker = TrackingMarker(
                commit_id=marker_id,
                application_name=tracking.application_name,
                notification_id=tracking.notification_id,
                timestamp_ns=time.time_ns(),
                signer=self.key.key_id,
            )
            marker_data = await self._sealer.seal(marker)
        limit = self.nc.max_payload
        for commit, data in zip(commits, sealed, strict=True):
            if len(data) > limit:
                raise CommitTooLarge(
                    f"commit {commit.commit_id} is {len(data)} bytes; the server accepts {limit}"
                )
        refresh = False
        for attempt in range(MAX_ATTEMPTS):
            try:
                outcome = await self._attempt(
                    commits,
                    sealed,
                    tracking,
                    marker_data,
                    marker_id,
                    refresh,
                    assume_new_from_version,
                    trace_context,
                )
            except (PublishTimeout, StreamNotFound):
                # No acknowledgement, or no stream leader answering (an election in a cluster):
                # back off and retry; the commit id makes a retry of a stored commit harmless.
                refresh = True
                await asyncio.sleep(0.05 * 2**attempt)
                continue
            if outcome is None:  # a concurrent change was seen: decide again on fresh heads
                refresh = True
                continue
            return outcome
        raise JetStreamError(f"append did not settle after {MAX_ATTEMPTS} attempts")

    def _known_head(
        self, commit: Commit, refresh: bool, assume_new_from_version: int | None
    ) -> AggregateHead | None:
        """The head to expect for `commit` without asking the server, or None to ask it."""
        if refresh:
            return None
        cached = self._heads.get(commit.subject)
        if (
            cached is None
            and assume_new_from_version is not None
            and commit.first_version <= assume_new_from_version
        ):
            return NEW_AGGREGATE
        return cached

    async def _attempt(
        self,
        commits: Sequence[Commit],
        sealed: list[bytes],
        tracking: TrackingPosition | None,
        marker_data: bytes | None,
        marker_id: str,
        refresh: bool,
        assume_new_from_version: int | None,
        trace_context: dict[str, str] | None = None,
    ) -> list[int] | None:
        """One try at storing the append; None when it met a concurrent change worth retrying."""
        heads: list[AggregateHead] = []
        for commit in commits:
            known = self._known_head(commit, refresh, assume_new_from_version)
            heads.append(known if known is not None else await self.head(commit.subject, refresh=True))
        messages: list[tuple[str, bytes, dict[str, str]]] = []
        if tracking is not None:
            assert marker_data is not None
            tracking_head = await self._tracking_head(tracking.application_name)
            if (
                tracking_head.notification_id is not None
                and tracking.notification_id <= tracking_head.notification_id
            ):
                raise ConcurrencyConflict(
                    self.subjects.tracking(tracking.application_name),
                    f"notification {tracking.notification_id} is not after tracked "
                    f"position {tracking_head.notification_id}",
                )
            messages.append(
                (
                    self.subjects.tracking(tracking.application_name),
                    marker_data,
                    {
                        **(trace_context or {}),
                        "Nats-Msg-Id": marker_id,
                        "Nats-Expected-Last-Subject-Sequence": str(tracking_head.last_seq),
                    },
                )
            )
        for commit, data, head in zip(commits, sealed, heads, strict=True):
            if head.last_commit_id == commit.commit_id and commit.first_version > (head.last_version or 0):
                # The aggregate's last commit has this id: a client reusing it for new versions.
                # The server's duplicate window may be over, so it would store this one silently.
                raise ConcurrencyConflict(
                    commit.subject,
                    f"commit id {commit.commit_id} is recorded at sequence {head.last_seq} "
                    "with other versions",
                )
            if head.last_version is not None and commit.first_version <= head.last_version:
                if (stored := await self._stored_seqs(commits)) is not None:
                    return stored  # an earlier attempt of this very append was stored: idempotent
                raise ConcurrencyConflict(
                    commit.subject,
                    f"version {commit.first_version} is already recorded "
                    f"(aggregate is at version {head.last_version})",
                )
            messages.append(
                (
                    commit.subject,
                    data,
                    {
                        **(trace_context or {}),
                        "Nats-Msg-Id": commit.commit_id,
                        "Nats-Expected-Last-Subject-Sequence": str(head.last_seq),
                    },
                )
            )
        try:
            if len(messages) == 1:  # one commit (or one marker): no batch, no OutgoingMessage
                ack = await self._publisher.send(*messages[0])
            else:
                ack = await self._publisher.publish_batch([OutgoingMessage(*m) for m in messages])
        except JetStreamAPIError as exc:
            if exc.err_code not in (WRONG_LAST_SEQUENCE, BATCH_DUPLICATE_MSG_ID):
                raise
            return await self._stored_seqs(commits)
        if ack.duplicate and commits:
            # The server deduplicates on Nats-Msg-Id alone and acknowledges the earlier message:
            # only an identical commit may pass as stored, or the cached head would take this
            # commit's versions while the stream holds the other's (and the next append leaves a gap).
            if (stored := await self._stored_seqs(commits)) is None:
                raise ConcurrencyConflict(
                    commits[0].subject, f"commit id {commits[0].commit_id} was recorded with other content"
                )
            return stored
        self._see(ack.seq)
        if len(messages) == 1:
            seqs = [ack.seq] if commits else []
        else:
            first = ack.seq - len(messages) + 1
            seqs_by_subject = {m[0]: first + i for i, m in enumerate(messages)}
            seqs = [seqs_by_subject[commit.subject] for commit in commits]
        for commit, seq in zip(commits, seqs, strict=True):
            self._remember(commit.subject, AggregateHead(seq, commit.last_version, commit.commit_id))
        return seqs

    async def _stored_seqs(self, commits: Sequence[Commit]) -> list[int] | None:
        """Where an earlier attempt of these very commits was stored, or None if it was not.

        Batches are atomic, so finding every commit of the append means the whole append was stored.
        """
        if not commits:
            return None
        seqs = []
        for commit in commits:
            seq = await self._stored_seq(commit)
            if seq is None:
                return None
            seqs.append(seq)
        return seqs

    async def _stored_seq(self, commit: Commit) -> int | None:
        """The sequence of an earlier attempt of this commit (same id, same versions), or None.

        Raises ConcurrencyConflict when the commit id was recorded with other versions: a client
        reused an id for another commit, which must not pass as an idempotent retry.
        """
        head = await self.head(commit.subject, refresh=True)
        if head.last_commit_id == commit.commit_id and head.last_version == commit.last_version:
            return head.last_seq
        async for page in self._reader.scan(1, commit.subject):
            for raw in page:
                if raw.msg_id != commit.commit_id:
                    continue
                _, body = peek_body(raw.data)
                if isinstance(body, Commit) and (body.first_version, body.last_version) == (
                    commit.first_version,
                    commit.last_version,
                ):
                    self._see(raw.seq)
                    return raw.seq
                raise ConcurrencyConflict(
                    commit.subject,
                    f"commit id {commit.commit_id} is recorded at sequence {raw.seq} with other versions",
                )
        return None

    # -- reading ---------------------------------------------------------------------------

    def _decode(self, raw: RawMessage) -> StoredCommit:
        try:
            body = open_envelope(raw.data) if self.verify_reads else peek_body(raw.data)[1]
        except EnvelopeError as exc:
            raise type(exc)(f"stream sequence {raw.seq} ({raw.subject}): {exc}") from exc
        if not isinstance(body, Commit):
            raise JetStreamError(f"message {raw.seq} on {raw.subject} is not a commit")
        return StoredCommit(raw.seq, raw.subject, body, raw.data, raw.trace)

    async def read_aggregate(self, subject: str, after_seq: int = 0) -> list[StoredCommit]:
        """Every commit of one aggregate in order (verified unless `verify_reads` is off)."""
        out: list[StoredCommit] = []
        async for page in self._reader.scan(after_seq + 1, subject):
            out.extend(self._decode(raw) for raw in page)
        if out:
            last = out[-1]
            self._see(last.seq)
            self._remember(subject, AggregateHead(last.seq, last.commit.last_version, last.commit.commit_id))
        elif after_seq == 0:
            self._remember(subject, NEW_AGGREGATE)
        return out

    async def read_commits(
        self,
        start_seq: int,
        *,
        limit: int = 1000,
        stop_seq: int | None = None,
        subject: str | None = None,
    ) -> list[StoredCommit]:
        """Up to `limit` commits from `start_seq` on, in stream order (tracking markers skipped)."""
        page, _ = await self._reader.batch(
            start_seq,
            subject or self.subjects.commits,
            batch=limit,
            min_last_seq=self._high_water,
        )
        if stop_seq is not None:
            page = [raw for raw in page if raw.seq <= stop_seq]
        return [self._decode(raw) for raw in page]

    async def last_commit(self) -> StoredCommit | None:
        raw = await self._reader.last(self.subjects.commits, min_last_seq=self._high_water)
        return None if raw is None else self._decode(raw)

    async def last_seq(self) -> int:
        info = await stream_info(self.nc, self.subjects.stream)
        return int(info["state"]["last_seq"])

    async def replay(
        self,
        *,
        subject: str | None = None,
        executor: Executor | None = None,
        page_size: int = 1000,
        workers: int = 2,
        fetch_ahead: int = 2,
    ) -> int:
        """Read every commit of the stream (or `subject` filter) and verify every signature.

        Each page is split across `workers` verifiers (threads by default: Ed25519 verification
        releases the GIL; a process pool may be passed as `executor`) while the next pages are
        fetched, so fetching and verifying overlap on all cores. A whole-stream replay keeps
        `fetch_ahead` pages of consecutive sequences in flight at once and drops tracking markers
        itself; a filtered replay fetches page after page. Raises the first EnvelopeError met,
        naming its stream sequence; returns the count.
        """
        loop = asyncio.get_running_loop()
        verifying: list[asyncio.Future[int]] = []
        count = 0

        async def verified(page: list[tuple[int, str, bytes]]) -> int:
            nonlocal verifying
            done = 0
            for future in verifying:
                done += await future
            verifying = []
            if page:
                items = [(seq, data) for seq, _, data in page]
                chunk = -(-len(items) // max(workers, 1))
                verifying = [
                    loop.run_in_executor(executor, _verify_page, items[i : i + chunk])
                    for i in range(0, len(items), chunk)
                ]
            return done

        try:
            seq = 1
            if subject is None and fetch_ahead > 1:
                info = await stream_info(self.nc, self.subjects.stream)
                seq = max(int(info["state"].get("first_seq", 1)), 1)
                last = int(info["state"].get("last_seq", 0))
                fetches: collections.deque[
                    tuple[int, asyncio.Future[tuple[list[tuple[int, str, bytes]], int]]]
                ] = collections.deque()
                try:
                    while seq <= last or fetches:
                        while seq <= last and len(fetches) < fetch_ahead:
                            end = min(seq + page_size, last + 1)
                            fetches.append(
                                (end, asyncio.ensure_future(self._reader.sequenced(seq, None, end - seq)))
                            )
                            seq = end
                        end, fetch = fetches.popleft()
                        page, _ = await fetch
                        # A window [start, end) holds at most end - start messages; one that runs
                        # on past `end` (deleted messages) has its tail fetched by the next window.
                        prefix = self.subjects.prefix
                        commits = [m for m in page if m[0] < end and _is_commit(m[1], prefix)]
                        count += await verified(commits)
                finally:
                    for _, fetch in fetches:
                        fetch.cancel()
                    if fetches:
                        await asyncio.gather(*(f for _, f in fetches), return_exceptions=True)
            filter_subject = subject or self.subjects.commits
            while True:  # page after page (a filtered replay, or what was stored while we replayed)
                page, remaining = await self._reader.sequenced(seq, filter_subject, batch=page_size)
                count += await verified(page)
                if not page:
                    break
                seq = page[-1][0] + 1
                if remaining == 0:
                    break
            count += await verified([])
        finally:
            for future in verifying:
                future.cancel()
        return count

    async def subscribe(
        self, start_seq: int = 1, subject: str | None = None, *, idle_heartbeat: float = 1.0
    ) -> AsyncIterator[StoredCommit]:
        """Commits from `start_seq` on, then new ones as they are stored (ordered consumer).

        The server keeps an ordered consumer in memory only, so a restarted server has forgotten
        it: the client notices two missed `idle_heartbeat`s and recreates it from the next
        sequence. nats-py's default of 5 s left a projection stalled for 10-20 s after a restart;
        1 s costs one tiny message a second per idle subscription. A commit is never yielded twice,
        even if a recreated consumer overlaps what was already delivered.
        """
        js = self.nc.jetstream()
        sub = await js.subscribe(
            subject or self.subjects.commits,
            stream=self.subjects.stream,
            ordered_consumer=True,
            idle_heartbeat=idle_heartbeat,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=max(start_seq, 1),
            ),
        )
        last = max(start_seq, 1) - 1
        try:
            async for msg in sub.messages:
                seq = msg.metadata.sequence.stream
                if seq <= last:
                    continue
                last = seq
                yield self._decode(RawMessage(seq, msg.subject, msg.data, None, trace_headers(msg.headers)))
        finally:
            with contextlib.suppress(Exception):  # the connection may already be closed
                await sub.unsubscribe()


def _is_commit(subject: str, prefix: str) -> bool:
    """Whether a stored subject is a commit's `<prefix>.<community>.<aggregate>.<id>`, not a marker."""
    parts = subject.split(".")
    return len(parts) == 4 and parts[0] == prefix


def _verify_page(page: Iterable[tuple[int, bytes]]) -> int:
    n = 0
    for seq, data in page:
        try:
            open_envelope(data)
        except EnvelopeError as exc:
            raise type(exc)(f"stream sequence {seq}: {exc}") from exc
        n += 1
    return n
