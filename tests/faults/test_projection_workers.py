"""Projection workers share a durable consumer: they divide a stream's commits, a worker that dies
between writing and acknowledging loses nothing and double-counts nothing, and a restarted group
resumes where it stopped. The projection is the warehouse; its workers are in-process clients on
their own connections, and then real `cos serve warehouse` processes killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest
from nats.aio.client import Client as NATS

from cos.platform import provision
from services.transparency.warehouse import ROWS_TABLE, Warehouse, WarehouseProjection, open_warehouse
from shared.jetstream import EventStore, StreamSettings
from shared.natsserver import NatsServer
from shared.projection import Delivery, ProjectionWorker
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.commits import write_spread
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually, eventually_async

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


async def write(store: EventStore, communities: list[str], commits: int, aggregates: int = 40) -> None:
    """`commits` single-event commits spread over the communities and `aggregates` aggregates each."""
    state = msgspec.msgpack.encode({"by": "did:key:zWriter", "note": "x" * 200})
    await write_spread(store, communities, commits, aggregates=aggregates, state=state)


def scalar(warehouse: Warehouse, sql: str) -> int:
    return int(warehouse.query(sql).rows[0][0])


def sequences(warehouse: Warehouse, stream: str) -> list[int]:
    result = warehouse.query(f"SELECT sequence FROM events WHERE stream = '{stream}' ORDER BY sequence")
    return [int(row[0]) for row in result.rows]


@asynccontextmanager
async def stream_with_store(nats_url: str) -> AsyncIterator[tuple[EventStore, str]]:
    nc = await nats.connect(nats_url)
    settings = StreamSettings(StreamSubjects.for_service(unique_service("w")))
    store = await EventStore(nc, settings, SigningKey.generate()).start()
    try:
        yield store, settings.subjects.stream
    finally:
        await store.close()
        await nc.jetstream().delete_stream(settings.subjects.stream)
        await nc.close()


async def test_two_workers_divide_a_stream_and_load_every_event_once(nats_url: str) -> None:
    warehouse = open_warehouse(None)
    connections = [await nats.connect(nats_url) for _ in range(2)]
    async with stream_with_store(nats_url) as (store, stream):
        workers = [
            WarehouseProjection(nc, warehouse, streams=(stream,), batch=20, fetch_wait_s=0.2)
            for nc in connections
        ]
        try:
            for worker in workers:
                await worker.start()
            await write(store, ["north", "south", "east"], 600, aggregates=30)

            assert await eventually(lambda: scalar(warehouse, "SELECT count() FROM events") == 600, within=30)
            assert await eventually(lambda: sum(w.loaded.commits.get(stream, 0) for w in workers) == 600)
            shares = [w.loaded.commits.get(stream, 0) for w in workers]
            assert all(share > 0 for share in shares), f"one worker did all the work: {shares}"
            assert scalar(warehouse, f"SELECT count() FROM {ROWS_TABLE}") == 600  # no row written twice
            assert sequences(warehouse, stream) == list(range(1, 601))
            per_community = warehouse.query(
                "SELECT community, count() FROM events GROUP BY community ORDER BY 1"
            )
            assert per_community.rows == [["east", 200], ["north", 200], ["south", 200]]
            # An acknowledgement is a publish the server takes in after the worker has counted the
            # commit as loaded: the group's backlog reaches zero, not necessarily at this instant.
            assert await eventually_async(lambda: _acked_all(workers[0]))
        finally:
            for worker in workers:
                await worker.stop(close=False)
            warehouse.close()
            for nc in connections:
                await nc.close()


async def test_a_worker_that_dies_after_writing_loses_nothing_and_counts_nothing_twice(nats_url: str) -> None:
    warehouse = open_warehouse(None)
    doomed_nc, survivor_nc, late_nc = [await nats.connect(nats_url) for _ in range(3)]
    async with stream_with_store(nats_url) as (store, stream):
        doomed = WarehouseProjection(
            doomed_nc, warehouse, streams=(stream,), batch=50, ack_wait_s=2, fetch_wait_s=0.2
        )
        survivor = WarehouseProjection(
            survivor_nc, warehouse, streams=(stream,), batch=50, ack_wait_s=2, fetch_wait_s=0.2
        )
        inserted = asyncio.Event()
        held: list[int] = []
        worker = doomed.workers[0]
        load = worker.apply

        async def insert_then_hang(deliveries: Any) -> None:
            await load(deliveries)  # the rows are in the table ...
            held.extend(d.sequence for d in deliveries)
            inserted.set()
            await asyncio.Event().wait()  # ... and the acknowledgement never comes

        worker.apply = insert_then_hang
        try:
            await doomed.start()
            await write(store, ["acme"], 50)
            await asyncio.wait_for(inserted.wait(), 20)
            await survivor.start()
            await write(store, ["acme"], 150)
            # The doomed process disappears: its connection drops with its batch unacknowledged.
            await doomed_nc.close()
            await doomed.stop(close=False)

            assert await eventually(lambda: sequences(warehouse, stream) == list(range(1, 201)), within=30)
            # The dead worker's batch is redelivered to the survivor once its ack_wait has passed.
            assert held
            assert await eventually(lambda: survivor.workers[0].stats.redelivered == len(held), within=30)
            assert await eventually(lambda: survivor.loaded.commits.get(stream) == 200)
            assert scalar(warehouse, "SELECT count() FROM events") == 200
            raw = scalar(warehouse, f"SELECT count() FROM {ROWS_TABLE}")
            assert raw >= 200  # before the merge the table may hold the batch twice ...
            warehouse.execute(f"OPTIMIZE TABLE {ROWS_TABLE} FINAL")
            assert scalar(warehouse, f"SELECT count() FROM {ROWS_TABLE}") == 200  # ... after it, once

            # Everyone stops; a new worker later resumes at the group's position, not at the start.
            await survivor.stop(close=False)
            await write(store, ["acme"], 30)
            late = WarehouseProjection(late_nc, warehouse, streams=(stream,), batch=50, fetch_wait_s=0.2)
            await late.start()
            try:
                assert await eventually(
                    lambda: scalar(warehouse, "SELECT count() FROM events") == 230, within=30
                )
                assert await eventually(lambda: late.loaded.commits == {stream: 30})
                assert await eventually_async(lambda: _acked_all(late))
            finally:
                await late.stop(close=False)
        finally:
            await survivor.stop(close=False)
            warehouse.close()
            for nc in (doomed_nc, survivor_nc, late_nc):
                if not nc.is_closed:
                    await nc.close()


@asynccontextmanager
async def warehouse_process(url: str, data: Path, target: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "COS_WAREHOUSE": str(target),
        "WAREHOUSE_BATCH": "40",
        "WAREHOUSE_ACK_WAIT": "2",
        "COS_LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cos.cli", "serve", "warehouse", "--nats-url", url, "--data-dir", str(data),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        # It imports chdb and creates the schema before it says so: slow on a loaded machine.
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if b"serving" not in line:
            assert proc.stderr is not None
            raise AssertionError(f"cos serve warehouse did not start: {(await proc.stderr.read()).decode()}")
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def consumer_state(nc: NATS, stream: str) -> tuple[int, int]:
    """(acknowledged floor, still to load) of the warehouse's consumer on `stream`."""
    info = await nc.jetstream().consumer_info(stream, "warehouse")
    return int(info.ack_floor.stream_seq or 0), int(info.num_pending or 0) + int(info.num_ack_pending or 0)


async def test_a_warehouse_process_killed_mid_load_resumes_without_losing_or_doubling(tmp_path: Path) -> None:
    with NatsServer(store_dir=tmp_path / "nats").start() as server:
        await provision(server.url)
        nc = await nats.connect(server.url)
        key = SigningKey.generate()
        membership = await EventStore(
            nc, StreamSettings(StreamSubjects("MEMBERSHIP", "membership")), key
        ).start()
        governance = await EventStore(
            nc, StreamSettings(StreamSubjects("GOVERNANCE", "governance")), key
        ).start()
        target = tmp_path / "warehouse"
        try:
            await write(membership, ["coop1", "coop2"], 3000)
            await write(governance, ["coop1"], 1000)

            async with warehouse_process(server.url, tmp_path / "var", target) as proc:

                async def partly_loaded() -> bool:
                    floor, pending = await consumer_state(nc, "MEMBERSHIP")
                    return floor > 0 and pending > 0

                assert await eventually_async(partly_loaded, within=60, every=0.02)
                proc.kill()  # SIGKILL: no chance to acknowledge what it was writing
                assert await proc.wait() == -signal.SIGKILL
            _, left = await consumer_state(nc, "MEMBERSHIP")
            assert left > 0, "the kill came after the whole stream was loaded"

            await write(membership, ["coop2"], 200)  # commits written while no worker runs
            async with warehouse_process(server.url, tmp_path / "var", target) as proc:

                async def all_loaded() -> bool:
                    return all([(await consumer_state(nc, s))[1] == 0 for s in ("MEMBERSHIP", "GOVERNANCE")])

                assert await eventually_async(all_loaded, within=120)
                proc.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(proc.wait(), 30) == 0
        finally:
            await membership.close()
            await governance.close()
            await nc.close()

    warehouse = open_warehouse(target)
    try:
        assert sequences(warehouse, "MEMBERSHIP") == list(range(1, 3201))
        assert sequences(warehouse, "GOVERNANCE") == list(range(1, 1001))
        counts = warehouse.query("SELECT community, count() FROM events GROUP BY community ORDER BY 1")
        assert counts.rows == [["coop1", 1500 + 1000], ["coop2", 1500 + 200]]
    finally:
        warehouse.close()


async def test_a_worker_waits_out_an_idle_stream_and_loads_what_comes_later(nats_url: str) -> None:
    """Fetches that find nothing or fail never end a worker: what comes later is still loaded."""
    warehouse = open_warehouse(None)
    nc = await nats.connect(nats_url)
    async with stream_with_store(nats_url) as (store, stream):
        worker = WarehouseProjection(nc, warehouse, streams=(stream,), batch=20, fetch_wait_s=0.05)
        try:
            await worker.start()
            # Besides its own TimeoutError, nats-py lets asyncio's escape from some fetch paths; and
            # whatever else a fetch raises must not end the worker either (it would leave its share).
            subscription = worker.workers[0]._sub
            assert subscription is not None
            real_fetch = subscription.fetch
            surprises: list[BaseException] = [TimeoutError(), RuntimeError("a fetch went wrong")]
            fetches: list[int] = []

            async def fetch(batch: int = 1, timeout: float | None = 5, heartbeat: float | None = None) -> Any:  # noqa: ASYNC109
                fetches.append(batch)
                if surprises:
                    raise surprises.pop(0)
                return await real_fetch(batch, timeout, heartbeat)

            subscription.fetch = fetch  # type: ignore[method-assign]
            # The surprises, then a dozen empty fetches (counted: a loaded machine fetches slower).
            assert await eventually(lambda: len(fetches) >= 14, within=30)
            assert not surprises
            await write(store, ["quiet"], 30, aggregates=3)
            assert await eventually(lambda: scalar(warehouse, "SELECT count() FROM events") == 30, within=30)
            assert all(w.stats.failures == 0 for w in worker.workers)
        finally:
            await worker.stop(close=False)
            warehouse.close()
            await nc.close()


def _slowed(projection: WarehouseProjection, seconds: float) -> asyncio.Event:
    """Each batch of the projection's (only) worker takes `seconds` longer to apply; the event
    is set once the first batch is in hand."""
    worker = projection.workers[0]
    load = worker.apply
    holding = asyncio.Event()

    async def slow(deliveries: Any) -> None:
        holding.set()
        await asyncio.sleep(seconds)
        await load(deliveries)

    worker.apply = slow
    return holding


async def test_a_slow_batch_is_kept_by_its_worker_and_a_stop_finishes_it(nats_url: str) -> None:
    """A batch that takes longer than ack_wait is not handed to another worker meanwhile (the
    worker reports progress), and stopping lets the batch in hand finish and be acknowledged."""
    warehouse = open_warehouse(None)
    slow_nc, other_nc = [await nats.connect(nats_url) for _ in range(2)]
    async with stream_with_store(nats_url) as (store, stream):
        # ack_wait 3 s (deployments use 60): progress goes out every second, so a loaded CI machine
        # stalling the loop for a moment does not count as a lost batch; at 1 s one run in several
        # saw a redelivery from a stall of under a second.
        slow = WarehouseProjection(
            slow_nc, warehouse, streams=(stream,), batch=100, ack_wait_s=3, fetch_wait_s=0.1
        )
        other = WarehouseProjection(
            other_nc, warehouse, streams=(stream,), batch=100, ack_wait_s=3, fetch_wait_s=0.1
        )
        holding = _slowed(slow, 7.5)  # two and a half times ack_wait
        try:
            await slow.start()
            await write(store, ["acme"], 40, aggregates=4)
            await asyncio.wait_for(holding.wait(), 20)
            await other.start()
            await asyncio.sleep(4)  # past ack_wait: the slow worker keeps its batch, not the other

            await slow.stop(close=False, grace_s=10)  # the batch in hand is finished and acknowledged
            assert slow.workers[0].stats.applied > 0
            assert await eventually(lambda: scalar(warehouse, "SELECT count() FROM events") == 40, within=30)
            assert await eventually_async(lambda: _acked_all(other), within=10)
            info = await other_nc.jetstream().consumer_info(stream, "warehouse")
            assert info.num_redelivered == 0, "a batch was redelivered while it was being applied"
            assert other.workers[0].stats.redelivered == 0
        finally:
            await other.stop(close=False)
            warehouse.close()
            for nc in (slow_nc, other_nc):
                await nc.close()


async def test_a_deleted_consumer_is_made_again_and_a_missing_stream_is_waited_for(nats_url: str) -> None:
    """Deleting the consumer (to rebuild the warehouse) restarts the projection from the first
    commit instead of leaving the workers idle; a stream that does not exist yet is loaded once it does."""
    warehouse = open_warehouse(None)
    nc = await nats.connect(nats_url)
    later = StreamSettings(StreamSubjects.for_service(unique_service("late")))
    async with stream_with_store(nats_url) as (store, stream):
        projection = WarehouseProjection(
            nc, warehouse, streams=(stream, later.subjects.stream), batch=20, fetch_wait_s=0.1, retry_s=0.2
        )
        late_store = None
        try:
            await projection.start()
            await write(store, ["acme"], 30, aggregates=3)
            assert await eventually(lambda: scalar(warehouse, "SELECT count() FROM events") == 30, within=30)

            await nc.jetstream().delete_consumer(stream, "warehouse")
            assert await eventually(lambda: projection.loaded.commits.get(stream, 0) >= 60, within=30)
            assert scalar(warehouse, "SELECT count() FROM events") == 30  # reloaded, still one row each

            late_store = await EventStore(nc, later, SigningKey.generate()).start()  # the stream appears
            await write(late_store, ["acme"], 10, aggregates=2)
            assert await eventually(lambda: scalar(warehouse, "SELECT count() FROM events") == 40, within=30)
        finally:
            await projection.stop(close=False)
            warehouse.close()
            if late_store is not None:
                await late_store.close()
                await nc.jetstream().delete_stream(later.subjects.stream)
            await nc.close()


async def test_a_lost_ack_leaves_the_worker_running_and_the_commit_loaded_once(
    nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An acknowledgement that cannot be sent (say, while reconnecting) ends nothing: the commit
    comes back after ack_wait, is loaded again, and is still one row."""
    from nats.aio.msg import Msg

    real_ack = Msg.ack
    lost: list[int] = []

    async def flaky_ack(self: Msg) -> None:
        if len(lost) < 5:
            lost.append(self.metadata.sequence.stream)
            raise nats.errors.OutboundBufferLimitError
        await real_ack(self)

    monkeypatch.setattr(Msg, "ack", flaky_ack)
    warehouse = open_warehouse(None)
    nc = await nats.connect(nats_url)
    async with stream_with_store(nats_url) as (store, stream):
        projection = WarehouseProjection(
            nc, warehouse, streams=(stream,), batch=10, ack_wait_s=1, fetch_wait_s=0.1
        )
        try:
            await projection.start()
            await write(store, ["acme"], 30, aggregates=3)

            assert await eventually_async(lambda: _acked_all(projection), within=30)
            assert len(lost) == 5
            worker = projection.workers[0]
            assert worker.stats.redelivered >= 5  # the commits whose acks were lost came back
            assert worker.stats.failures == 0
            assert sequences(warehouse, stream) == list(range(1, 31))
        finally:
            await projection.stop(close=False)
            warehouse.close()
            await nc.close()


async def test_a_commit_the_projection_defers_comes_back_after_its_delay_and_the_rest_are_acked(
    nats_url: str,
) -> None:
    """`apply` may hand back commits it is not ready for, with a delay: they are not failures,
    the others in the batch are acknowledged, and the deferred ones come again after the delay."""
    nc = await nats.connect(nats_url)
    async with stream_with_store(nats_url) as (store, stream):
        await write(store, ["later"], 6, aggregates=2)
        seen: dict[int, list[float]] = {}
        waiting = {2, 5}

        async def apply(deliveries: Sequence[Delivery]) -> dict[int, float] | None:
            for delivery in deliveries:
                seen.setdefault(delivery.sequence, []).append(time.monotonic())
            deferred = {d.sequence: 0.8 for d in deliveries if d.sequence in waiting}
            waiting.difference_update(deferred)
            return deferred

        worker = ProjectionWorker(nc, stream, unique_service("defer"), apply, batch=10, fetch_wait_s=0.1)
        await worker.start()
        try:
            assert await eventually(
                lambda: all(len(seen.get(s, ())) == (2 if s in (2, 5) else 1) for s in range(1, 7)), within=20
            )
            for sequence in (2, 5):
                first, again = seen[sequence]
                assert again - first >= 0.8  # handed back with its delay, not at once
            assert await eventually_async(lambda: _acked_all(worker), within=10)
            assert (worker.stats.deferred, worker.stats.failures, worker.stats.applied) == (2, 0, 6)
        finally:
            await worker.stop()
            await nc.close()


async def _acked_all(worker: ProjectionWorker | WarehouseProjection) -> bool:
    """Whether the server holds nothing unacknowledged for the group (acks are publishes it takes
    in a moment after the worker counted the commits, so callers wait for this)."""
    return await worker.pending() == 0
