"""Projection workers that divide a stream's work: a shared durable pull consumer per projection.

Every process that runs a projection of the same name binds to the same durable consumer on the
stream (`<projection>` with the projection's filter), so JetStream hands each commit to one of
them: start more workers and the work divides; kill one and what it had not acknowledged is handed
to the others after `ack_wait`. The consumer's acknowledgement floor is the projection's position:
a restarted worker resumes where the group stopped, not at the start of the stream.

Delivery is at least once and, across workers, in no particular order. A projection run this way
must therefore be idempotent and order-insensitive: it keys what it writes by the commit's stream
sequence (the warehouse's rows are keyed by `(stream, sequence, event_index)` and collapse on
merge). Read models that depend on order are kept per replica instead (see
docs/decisions/0019-deployment.md).

A batch is applied, then each message acknowledged, except those the projection defers (it is not
ready for them yet, e.g. a mail that waits to see whether its reader comes back): they are handed
back with the delay it names and come again then; while it is applied the worker reports progress
every ack_wait / 3, so a slow batch is not handed to another worker meanwhile. When `apply` raises,
the batch is negatively acknowledged with a growing delay and tried again (by this worker or
another); a commit that can never apply (a forged signature, an undecodable body) is the
projection's to skip and count, not to raise, or it would be redelivered forever. A stop lets the
batch in hand finish (within a grace period); a consumer deleted under the workers is made again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import api
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind

from shared.subjects import check_token
from shared.telemetry import extract_context, instruments, register_consumer_lag, span_in_context

__all__ = ["Deferred", "Delivery", "ProjectionError", "ProjectionWorker"]

log = logging.getLogger(__name__)

_MAX_LINKS = 32  # traces of a batch's other commits linked from its span
_LOOK_EVERY_S = 5.0  # how often a busy worker asks the server for the group's backlog


class ProjectionError(RuntimeError):
    """The projection's consumer cannot be created or bound (a different one holds its name)."""


@dataclass(frozen=True)
class Delivery:
    """One commit as the consumer delivered it."""

    stream: str
    sequence: int
    subject: str
    data: bytes
    delivered: int  # 1 on first delivery, more on redelivery
    trace: dict[str, str] = field(default_factory=dict)
    timestamp_ns: int = 0  # when the stream stored it (0: not known)


# `apply` may return the commits it is not ready for yet, by stream sequence, with how many seconds
# to wait: those are handed back with that delay (not counted as a failure), the rest acknowledged.
Deferred = Mapping[int, float]
Apply = Callable[[Sequence[Delivery]], Awaitable[Deferred | None]]


@dataclass
class WorkerStats:
    applied: int = 0  # commits applied and acknowledged by this worker
    batches: int = 0
    redelivered: int = 0  # commits this worker received that another delivery had already had
    failures: int = 0  # batches whose apply raised (negatively acknowledged)
    deferred: int = 0  # commits the projection was not ready for, handed back with its delay


class ProjectionWorker:
    """One worker of projection `name` over `stream`; any number may run, in any processes."""

    def __init__(
        self,
        nc: NATS,
        stream: str,
        name: str,
        apply: Apply,
        *,
        filter_subject: str | None = None,
        batch: int = 500,
        ack_wait_s: float = 30.0,
        fetch_wait_s: float = 1.0,
        max_ack_pending: int = 20_000,
        retry_delays_s: Sequence[float] = (0.5, 2.0, 10.0, 30.0),
    ) -> None:
        self.nc = nc
        self.stream = stream
        self.name = check_token(name, "projection")
        self.apply = apply
        self.filter_subject = filter_subject
        self.batch = batch
        self.ack_wait_s = ack_wait_s
        self.fetch_wait_s = fetch_wait_s
        self.max_ack_pending = max_ack_pending
        self.retry_delays_s = tuple(retry_delays_s)
        self.stats = WorkerStats()
        self._sub: nats.js.JetStreamContext.PullSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: int | None = None  # the group's backlog, as of the last look
        self._looked_at = 0.0
        self._stopping = False
        self._unregister_lag: Callable[[], None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def config(self) -> api.ConsumerConfig:
        return api.ConsumerConfig(
            durable_name=self.name,
            description=f"projection {self.name}: shared by every worker of it",
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            max_deliver=-1,
            max_ack_pending=self.max_ack_pending,
            max_waiting=512,
            filter_subject=self.filter_subject,
        )

    async def ensure_consumer(self) -> api.ConsumerInfo:
        """Create the durable consumer, or find it as another worker created it (idempotent)."""
        js = self.nc.jetstream()
        wanted = self.config()
        try:
            info = await js.consumer_info(self.stream, self.name)
        except nats.js.errors.NotFoundError:
            try:
                return await js.add_consumer(self.stream, wanted)
            except nats.js.errors.BadRequestError:
                # Created by another worker between our look and our create, with another config.
                info = await js.consumer_info(self.stream, self.name)
        current = info.config
        if current.filter_subject != wanted.filter_subject or current.ack_policy != wanted.ack_policy:
            raise ProjectionError(
                f"consumer {self.name} on {self.stream} exists with filter {current.filter_subject!r} "
                f"and ack policy {current.ack_policy}; this projection needs {wanted.filter_subject!r} "
                "with explicit acks (delete the consumer to rebuild the projection from the start)"
            )
        if current.ack_wait != wanted.ack_wait or current.max_ack_pending != wanted.max_ack_pending:
            # A new release may tune these: a create with the same name updates them in place.
            info = await js.add_consumer(self.stream, wanted)
        assert isinstance(info, api.ConsumerInfo)
        return info

    async def start(self) -> ProjectionWorker:
        await self._bind()
        self._unregister_lag = register_consumer_lag(
            self.name, self.stream, lambda: self._pending, owner=self
        )
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"projection {self.name}")
        return self

    async def _bind(self) -> None:
        await self.ensure_consumer()
        if self._sub is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._sub.unsubscribe()
        self._sub = await self.nc.jetstream().pull_subscribe_bind(durable=self.name, stream=self.stream)

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop fetching; a batch being applied is finished and acknowledged first (for at most
        `grace_s`, default ack_wait / 2). Past that it is cancelled and handed back at once."""
        self._stopping = True
        try:
            if self._task is not None:
                grace = self.ack_wait_s / 2 if grace_s is None else grace_s
                done, _ = await asyncio.wait({self._task}, timeout=grace + self.fetch_wait_s)
                if not done:
                    self._task.cancel()
                try:
                    await self._task
                except asyncio.CancelledError:
                    pass
                except Exception:
                    log.warning("projection %s on %s had failed", self.name, self.stream, exc_info=True)
                self._task = None
        finally:
            if self._sub is not None:
                with contextlib.suppress(nats.errors.Error):
                    await self._sub.unsubscribe()
                self._sub = None
        if self._unregister_lag is not None:
            self._unregister_lag()
            self._unregister_lag = None

    async def pending(self) -> int:
        """Commits the group has not yet acknowledged: waiting plus in flight at some worker."""
        info = await self.nc.jetstream().consumer_info(self.stream, self.name)
        self._pending = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
        self._looked_at = time.monotonic()
        return self._pending

    # -- the loop --------------------------------------------------------------------------

    async def _look(self) -> None:
        """Refresh the backlog; a consumer deleted under us (to rebuild the projection) is created
        again and bound, so the workers start over instead of idling on a consumer that is gone."""
        try:
            await self.pending()
        except nats.js.errors.NotFoundError:
            log.warning(
                "projection %s: consumer on %s was deleted; creating it again", self.name, self.stream
            )
            with contextlib.suppress(nats.errors.Error, nats.js.errors.Error, TimeoutError):
                await self._bind()
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError):
            pass

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            assert self._sub is not None
            try:
                messages = await self._sub.fetch(self.batch, timeout=self.fetch_wait_s)
            except (nats.errors.TimeoutError, TimeoutError):
                # Nothing new (nats-py raises its own TimeoutError, or asyncio's on some paths;
                # a deleted consumer also looks like this, which `_look` finds out).
                await self._look()
                continue
            except (nats.errors.ConnectionClosedError, nats.errors.ConnectionDrainingError):
                return
            except Exception:  # never die quietly: a dead worker would leave its share unloaded
                log.warning("projection %s: fetch from %s failed", self.name, self.stream, exc_info=True)
                await asyncio.sleep(0.5)
                await self._look()  # e.g. "no responders" once the consumer was deleted
                continue
            deliveries = [self._delivery(m) for m in messages]
            try:
                deferred = await self._apply_holding(messages, deliveries)
            except asyncio.CancelledError:
                await self._hand_back(messages, 0)  # stopped mid-batch: to the others at once
                raise
            except Exception:
                failures += 1
                self.stats.failures += 1
                delay = self.retry_delays_s[min(failures, len(self.retry_delays_s)) - 1]
                log.warning(
                    "projection %s: applying %d commits of %s failed (attempt %d); retrying in %gs",
                    self.name,
                    len(deliveries),
                    self.stream,
                    failures,
                    delay,
                    exc_info=True,
                )
                await self._hand_back(messages, delay)
                continue
            failures = 0
            acked = waiting = 0
            for message, delivery in zip(messages, deliveries, strict=True):
                wait = deferred.get(delivery.sequence) if deferred else None
                try:
                    if wait is None:
                        await message.ack()
                        acked += 1
                    else:
                        waiting += 1
                        await message.nak(delay=max(wait, 0.001))
                except nats.errors.Error:  # redelivered after ack_wait; the projection is idempotent
                    log.debug("projection %s: an ack was lost", self.name, exc_info=True)
            self.stats.applied += acked
            self.stats.deferred += waiting
            self.stats.batches += 1
            self.stats.redelivered += sum(1 for d in deliveries if d.delivered > 1)
            instruments().projection_commits.add(len(deliveries) - waiting, {"cos.consumer": self.name})
            if waiting:
                instruments().projection_deferred.add(waiting, {"cos.consumer": self.name})
            if (
                time.monotonic() - self._looked_at > _LOOK_EVERY_S
            ):  # after the stats: they count what is acked
                await self._look()

    async def _apply_holding(
        self, messages: Sequence[Msg], deliveries: Sequence[Delivery]
    ) -> Deferred | None:
        """Apply the batch, telling the server every ack_wait / 3 that it is still being worked on,
        so a slow batch is not redelivered to another worker while this one applies it."""
        applying = asyncio.ensure_future(self._apply(deliveries))
        try:
            while True:
                done, _ = await asyncio.wait({applying}, timeout=self.ack_wait_s / 3)
                if done:
                    return applying.result()
                for message in messages:
                    with contextlib.suppress(nats.errors.Error):
                        await message.in_progress()
        finally:
            if not applying.done():
                applying.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await applying

    async def _hand_back(self, messages: Sequence[Msg], delay: float) -> None:
        for message in messages:
            with contextlib.suppress(nats.errors.Error):
                await message.nak(delay=delay or None)

    async def _apply(self, deliveries: Sequence[Delivery]) -> Deferred | None:
        # The batch's span continues the trace of its first traced commit and links the others'.
        contexts = [extract_context(d.trace) for d in deliveries if d.trace]
        parent = contexts[0] if contexts else None
        links, seen = [], set()
        for context in contexts[1:]:
            span_context = trace.get_current_span(context).get_span_context() if context else None
            if span_context is None or not span_context.is_valid or span_context.trace_id in seen:
                continue
            seen.add(span_context.trace_id)
            links.append(Link(span_context))
            if len(links) >= _MAX_LINKS:
                break
        with span_in_context(
            "projection",
            f"apply {self.stream}",
            parent=parent,
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "cos.consumer": self.name,
                "cos.stream": self.stream,
                "cos.commits": len(deliveries),
                "messaging.system": "nats",
            },
        ):
            return await self.apply(deliveries)

    def _delivery(self, message: Msg) -> Delivery:
        meta = message.metadata
        headers = message.headers or {}
        trace = {k: v for k, v in headers.items() if k in ("traceparent", "tracestate")}
        return Delivery(
            stream=self.stream,
            sequence=int(meta.sequence.stream),
            subject=message.subject,
            data=message.data,
            delivered=int(meta.num_delivered),
            trace=trace,
            timestamp_ns=int(meta.timestamp.timestamp() * 1e9) if meta.timestamp else 0,
        )
