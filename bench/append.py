"""Append and replay throughput: signed OCC commits vs raw pipelined JetStream publish, in one run.

Usage: `cos bench append [--commits N] [--aggregates M] [--json]`. Prints one JSON object on the
last line with raw_publish_per_s, append_per_s, append_vs_raw, sqlite_recorder_per_s and
replay_verify_per_s, and beside them replay verified in a process pool, fetching alone and the
Ed25519 sign/verify ceilings of this machine. Figures are ratios against baselines measured in
the same run on the same machine; nothing here is a pass/fail timing assertion.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore
from nats.aio.client import Client as NATS

from shared.envelope import EventRecord
from shared.jetstream import EventStore, StreamSettings
from shared.jetstream.reader import StreamReader
from shared.natsclient import connect
from shared.natsserver import NatsServer
from shared.signing import SigningKey, verify_detached
from shared.subjects import StreamSubjects

PAYLOAD = 1000  # bytes of event state per commit, so a commit is ~1 KB


async def raw_publish(nc: NATS, commits: int) -> float:
    """Baseline: nats-py pipelined JetStream publish of 1 KB messages (no signing, no OCC)."""
    subjects = StreamSubjects("BENCHRAW", "benchraw")
    js = nc.jetstream()
    await js.add_stream(name=subjects.stream, subjects=subjects.stored, storage="file")
    payload = os.urandom(PAYLOAD)
    started = time.perf_counter()
    for i in range(commits):
        await js.publish_async(f"benchraw.acme.member.m{i % 1000}", payload)
    await js.publish_async_completed()
    elapsed = time.perf_counter() - started
    await js.delete_stream(subjects.stream)
    return commits / elapsed


async def signed_append(
    nc: NATS, commits: int, aggregates: int, executor: ThreadPoolExecutor
) -> tuple[float, EventStore]:
    """Ours: each commit built, signed and appended with an expected-sequence check.

    OCC allows one commit in flight per aggregate (the next needs the previous one's sequence),
    so M aggregates give up to M commits in flight on the connection.
    """
    settings = StreamSettings(StreamSubjects("BENCHAPPEND", "benchappend"))
    store = await EventStore(nc, settings, SigningKey.generate()).start()
    state = os.urandom(PAYLOAD)
    per_aggregate = commits // aggregates

    async def writer(a: int) -> None:
        for v in range(1, per_aggregate + 1):
            commit = store.new_commit(
                community="acme",
                aggregate="member",
                ident=f"m{a}",
                originator_id=f"acme.member.m{a}",
                events=[EventRecord("bench.noted.v1", v, state)],
            )
            await store.append([commit])

    started = time.perf_counter()
    await asyncio.gather(*(writer(a) for a in range(aggregates)))
    elapsed = time.perf_counter() - started
    return per_aggregate * aggregates / elapsed, store


def crypto_ceilings(workers: int) -> tuple[float, float]:
    """Ed25519 sign/s on one thread and verify/s on `workers` threads: what no store can beat."""
    key = SigningKey.generate()
    message = os.urandom(PAYLOAD + 300)
    signature = key.sign(message)
    n = 3000
    started = time.perf_counter()
    for _ in range(n):
        key.sign(message)
    sign_rate = n / (time.perf_counter() - started)

    def verify(count: int) -> None:
        for _ in range(count):
            verify_detached(message, signature, key.public_key)

    with ThreadPoolExecutor(workers) as pool:
        started = time.perf_counter()
        list(pool.map(verify, [n] * workers))
        verify_rate = n * workers / (time.perf_counter() - started)
    return sign_rate, verify_rate


async def replay_verify(store: EventStore, executor: Executor) -> tuple[float, int]:
    started = time.perf_counter()
    count = await store.replay(executor=executor)
    return count / (time.perf_counter() - started), count


async def replay_fetch(store: EventStore) -> float:
    """Reading alone (no verification), page after page: the ceiling of replay's fetch side."""
    reader = StreamReader(store.nc, store.subjects.stream)
    started = time.perf_counter()
    count = 0
    async for page in reader.scan(1, store.subjects.commits):
        count += len(page)
    return count / (time.perf_counter() - started)


def sqlite_recorder(commits: int, aggregates: int) -> float:
    """The eventsourcing library's SQLite recorder on the same workload, one insert per commit."""
    with tempfile.TemporaryDirectory() as tmp:
        datastore = SQLiteDatastore(str(Path(tmp) / "bench.sqlite"))
        recorder = SQLiteApplicationRecorder(datastore)
        recorder.create_table()
        ids = [uuid.uuid4() for _ in range(aggregates)]
        state = os.urandom(PAYLOAD)
        per_aggregate = commits // aggregates
        started = time.perf_counter()
        for v in range(1, per_aggregate + 1):
            for originator in ids:
                recorder.insert_events([StoredEvent(originator, v, "bench.noted.v1", state)])
        elapsed = time.perf_counter() - started
        datastore.close()
        return per_aggregate * aggregates / elapsed


async def run(commits: int, aggregates: int, url: str) -> dict[str, Any]:
    nc = await connect(url, pending_size=64 * 1024 * 1024)
    executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    # Started (and warmed) before timing: a replay of a large stream may verify in processes.
    processes = ProcessPoolExecutor(os.cpu_count() or 2, mp_context=multiprocessing.get_context("spawn"))
    try:
        list(processes.map(abs, range(os.cpu_count() or 2)))
        raw = await raw_publish(nc, commits)
        append, store = await signed_append(nc, commits, aggregates, executor)
        fetch = await replay_fetch(store)
        replay, replayed = await replay_verify(store, executor)
        replay_processes, _ = await replay_verify(store, processes)
        await nc.jetstream().delete_stream(store.subjects.stream)
        await store.close()
    finally:
        executor.shutdown()
        processes.shutdown()
        await nc.close()
    sqlite = sqlite_recorder(min(commits, 20_000), aggregates)
    sign_ceiling, verify_ceiling = crypto_ceilings(os.cpu_count() or 2)
    return {
        "commits": commits,
        "aggregates": aggregates,
        "replayed": replayed,
        "raw_publish_per_s": round(raw),
        "append_per_s": round(append),
        "append_vs_raw": round(append / raw, 3),
        "sqlite_recorder_per_s": round(sqlite),
        "replay_verify_per_s": round(replay),
        "replay_verify_processes_per_s": round(replay_processes),
        "replay_fetch_per_s": round(fetch),
        "sign_ceiling_per_s": round(sign_ceiling),
        "verify_ceiling_per_s": round(verify_ceiling),
        "replay_vs_verify_ceiling": round(replay / verify_ceiling, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cos bench append", description=__doc__)
    add_arguments(parser)
    return execute(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--aggregates", type=int, default=1_000)
    parser.add_argument("--json", action="store_true", help="only the JSON result line")


def execute(args: argparse.Namespace) -> int:
    aggregates = max(1, min(args.aggregates, args.commits))
    url = os.environ.get("NATS_URL")
    if url:
        result = asyncio.run(run(args.commits, aggregates, url))
    else:
        with NatsServer(name="bench-nats") as server:
            result = asyncio.run(run(args.commits, aggregates, server.url))
    if not args.json:
        print(f"raw pipelined publish   {result['raw_publish_per_s']:>10,} msgs/s")
        print(f"signed + OCC append     {result['append_per_s']:>10,} commits/s")
        print(f"  append / raw          {result['append_vs_raw']:>10.1%}  (target >= 50%)")
        print(f"eventsourcing SQLite    {result['sqlite_recorder_per_s']:>10,} inserts/s")
        print(f"replay + verify         {result['replay_verify_per_s']:>10,} commits/s (target >= 20,000)")
        print(f"  verifying in processes {result['replay_verify_processes_per_s']:>10,} commits/s")
        print(f"  fetch alone, no verify {result['replay_fetch_per_s']:>10,} commits/s")
        print(f"  Ed25519 sign, 1 thread  {result['sign_ceiling_per_s']:>8,} /s")
        print(f"  Ed25519 verify, all cores {result['verify_ceiling_per_s']:>6,} /s")
        print(f"  replay / verify ceiling {result['replay_vs_verify_ceiling']:>10.1%}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
