"""Projection workers in processes: how the warehouse projection's work divides over a shared consumer.

Usage: `cos bench projection [--commits N] [--workers 1,2] [--batch B] [--json]`. Writes N signed
commits (~1 KB) over many aggregates and a few communities into one stream of an embedded
nats-server, then measures, in the same run:

- the baseline: `load_streams` (Direct Get pages, in stream order) of the stream into an embedded
  chdb warehouse in this process;
- for each worker count k: k child processes each running `WarehouseProjection` on the shared
  durable consumer `warehouse` (deleted before each k, so every k loads the whole stream), timed
  from one "go" sent to all of them until the consumer has acknowledged the stream's last sequence.

Each worker process holds its own chdb directory, a shard of the warehouse: a chdb directory cannot
be opened by two processes (with a ClickHouse server they would all write into one). The children's
shards must hold every commit exactly once between them, and with k > 1 every child must have loaded
some; a violated check is an error exit. Figures are ratios against the baseline of the same run;
the machine's cpu count and load average are printed beside them because nats-server shares the
cores with the workers. Prints one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS

from services.transparency.warehouse import ROWS_TABLE, WarehouseProjection, load_streams, open_warehouse
from shared.jetstream import EventStore, StreamSettings
from shared.natsclient import connect
from shared.natsserver import NatsServer
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.commits import write_spread

ROOT = Path(__file__).resolve().parents[1]
CONSUMER = "warehouse"  # WarehouseProjection's default name: the shared durable consumer
SERVICE = "benchproj"  # the stream BENCHPROJ, subjects benchproj.<community>.<aggregate>.<id>
COMMUNITIES = ("north", "south", "east", "west")
NOTE = 450  # characters of event state, so a stored commit (envelope, signature, headers) is ~1 KB
READY_TIMEOUT_S = 120.0  # a child imports chdb and creates the schema before it says "ready"
POLL_S = 0.01


class BenchError(RuntimeError):
    """A check of the run failed (a commit lost or loaded twice, an idle worker, a child that died)."""


# -- the child: one worker process ------------------------------------------------------------


def _runs(sequences: list[int]) -> list[list[int]]:
    """Sorted sequences as [first, last] runs (a shard's batches are mostly contiguous)."""
    runs: list[list[int]] = []
    for seq in sequences:
        if runs and seq == runs[-1][1] + 1:
            runs[-1][1] = seq
        else:
            runs.append([seq, seq])
    return runs


async def _child(url: str, stream: str, batch: int) -> int:
    """Open a shard, say "ready", start the projection on "go", stop on stdin EOF or SIGTERM."""
    warehouse = await asyncio.to_thread(open_warehouse, None)  # its own temporary chdb directory
    nc = await connect(url)
    projection = WarehouseProjection(nc, warehouse, streams=(stream,), batch=batch)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    terminated = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, terminated.set)
    print("ready", flush=True)
    try:
        line = await stdin.readline()
        if line.strip() == b"go":
            await projection.start()
            eof = asyncio.ensure_future(stdin.read())
            term = asyncio.ensure_future(terminated.wait())
            _, waiting = await asyncio.wait({eof, term}, return_when=asyncio.FIRST_COMPLETED)
            for task in waiting:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await projection.stop(close=False)
        result = await asyncio.to_thread(
            warehouse.query,
            f"SELECT sequence FROM {ROWS_TABLE} ORDER BY sequence",  # noqa: S608
        )
        sequences = [int(row[0]) for row in result.rows]
        print(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "commits": projection.loaded.commits.get(stream, 0),
                    "events": projection.loaded.events,
                    "redelivered": sum(w.stats.redelivered for w in projection.workers),
                    "batches": sum(w.stats.batches for w in projection.workers),
                    "rows": len(sequences),
                    "runs": _runs(sequences),
                }
            ),
            flush=True,
        )
    finally:
        transport.close()
        await nc.close()
        await asyncio.to_thread(warehouse.close)
    return 0


# -- the parent ----------------------------------------------------------------------------------


@dataclass
class Written:
    stream: str
    commits: int
    last_seq: int
    commit_bytes: int
    per_s: float


async def write_commits(nc: NATS, commits: int, aggregates: int) -> Written:
    """`commits` signed single-event commits over `aggregates` aggregates in a few communities."""
    settings = StreamSettings(StreamSubjects.for_service(SERVICE))
    store = await EventStore(nc, settings, SigningKey.generate()).start()
    state = msgspec.msgpack.encode({"by": "did:key:zBenchWriter", "note": "x" * NOTE})

    started = time.perf_counter()
    try:
        await write_spread(
            store, COMMUNITIES, commits, aggregates=aggregates, topic="bench.thing_noted.v1", state=state
        )
    finally:
        await store.close()
    elapsed = time.perf_counter() - started
    info = await nc.jetstream().stream_info(settings.subjects.stream)
    messages = int(info.state.messages)
    return Written(
        stream=settings.subjects.stream,
        commits=messages,
        last_seq=int(info.state.last_seq),
        commit_bytes=round(int(info.state.bytes) / max(1, messages)),
        per_s=commits / elapsed,
    )


async def baseline(nc: NATS, stream: str, commits: int) -> float:
    """Direct Get, in stream order, into an embedded chdb warehouse in this process: commits/s."""
    warehouse = await asyncio.to_thread(open_warehouse, None)  # opened (import, schema) untimed
    try:
        started = time.perf_counter()
        summary = await load_streams(nc, warehouse, streams=(stream,))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.to_thread(warehouse.close)
    loaded = summary.commits.get(stream, 0)
    if loaded != commits:
        raise BenchError(f"the baseline loaded {loaded} commits of {stream}, not {commits}")
    return commits / elapsed


@dataclass
class Child:
    process: asyncio.subprocess.Process
    stderr: IO[bytes]

    def stderr_tail(self) -> str:
        self.stderr.flush()
        self.stderr.seek(0)
        text = self.stderr.read().decode(errors="replace").strip()
        return "\n".join(text.splitlines()[-15:]) or "(nothing on stderr)"


async def spawn(url: str, stream: str, batch: int) -> Child:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the child, in stop_children
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.projection",
        "--child",
        "--nats-url",
        url,
        "--stream",
        stream,
        "--batch",
        str(batch),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        cwd=ROOT,
        env=env,
    )
    return Child(process, stderr)


async def wait_ready(child: Child) -> None:
    assert child.process.stdout is not None
    while True:
        line = await asyncio.wait_for(child.process.stdout.readline(), READY_TIMEOUT_S)
        if not line:
            raise BenchError(f"worker {child.process.pid} exited before it was ready:\n{child.stderr_tail()}")
        if line.strip() == b"ready":
            return


async def stop_children(children: list[Child]) -> list[dict[str, Any]]:
    """Close every child's stdin (SIGTERM if that is not enough) and read its JSON line."""
    for child in children:
        if child.process.stdin is not None and not child.process.stdin.is_closing():
            child.process.stdin.close()
    reports: list[dict[str, Any]] = []
    failures: list[str] = []
    for child in children:
        process = child.process
        assert process.stdout is not None
        try:
            out = await asyncio.wait_for(process.stdout.read(), 60)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                out = await asyncio.wait_for(process.stdout.read(), 20)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                out = b""
        code = await process.wait()
        report = None
        for line in reversed(out.decode(errors="replace").splitlines()):
            with contextlib.suppress(ValueError):
                candidate = json.loads(line)
                if isinstance(candidate, dict):
                    report = candidate
                    break
        if report is None or code != 0:
            failures.append(f"worker {process.pid} exited with {code}:\n{child.stderr_tail()}")
        else:
            reports.append(report)
        child.stderr.close()
    if failures:
        raise BenchError("\n".join(failures))
    return reports


async def delete_consumer(nc: NATS, stream: str) -> None:
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await nc.jetstream().delete_consumer(stream, CONSUMER)


async def wait_done(nc: NATS, stream: str, last_seq: int, timeout_s: float) -> int:
    """Poll the consumer until every commit is acknowledged; return the server's redelivery count."""
    js = nc.jetstream()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            info = await js.consumer_info(stream, CONSUMER)
        except nats.js.errors.NotFoundError:  # no worker has created it yet
            info = None
        except (nats.errors.TimeoutError, TimeoutError):
            info = None
        if info is not None:
            outstanding = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
            floor = int(info.ack_floor.stream_seq) if info.ack_floor is not None else 0
            if outstanding == 0 and floor == last_seq:
                return int(info.num_redelivered or 0)
        await asyncio.sleep(POLL_S)
    raise BenchError(f"the workers did not acknowledge {stream} up to {last_seq} within {timeout_s:.0f}s")


def check_exactly_once(reports: list[dict[str, Any]], written: Written, k: int) -> None:
    """Every sequence of the stream in exactly one shard, and every worker busy when k > 1."""
    commits = [int(r["commits"]) for r in reports]
    if sum(commits) != written.commits:
        raise BenchError(f"{k} workers loaded {sum(commits)} commits ({commits}), not {written.commits}")
    seen = bytearray(written.last_seq + 1)
    for report in reports:
        if int(report["rows"]) != int(report["events"]):
            pid, events, rows = report["pid"], report["events"], report["rows"]
            raise BenchError(f"worker {pid} loaded {events} events, but its shard holds {rows} rows")
        for first, last in report["runs"]:
            for seq in range(int(first), int(last) + 1):
                if not 1 <= seq <= written.last_seq:
                    raise BenchError(f"worker {report['pid']} loaded sequence {seq}, not in the stream")
                seen[seq] = min(255, seen[seq] + 1)
    twice = sum(1 for n in seen[1:] if n > 1)
    missing = sum(1 for n in seen[1:] if n == 0)
    if twice or missing:
        raise BenchError(f"{k} workers: {missing} sequences in no shard, {twice} in more than one")
    if k > 1 and min(commits) == 0:
        raise BenchError(f"{k} workers: one did nothing (shares {commits}); use a smaller --batch")


async def measure(
    nc: NATS, url: str, written: Written, k: int, batch: int, timeout_s: float
) -> dict[str, Any]:
    await delete_consumer(nc, written.stream)
    children = [await spawn(url, written.stream, batch) for _ in range(k)]
    try:
        await asyncio.gather(*(wait_ready(child) for child in children))
        started = time.perf_counter()
        for child in children:
            assert child.process.stdin is not None
            child.process.stdin.write(b"go\n")
        await asyncio.gather(*(child.process.stdin.drain() for child in children if child.process.stdin))
        server_redelivered = await wait_done(nc, written.stream, written.last_seq, timeout_s)
        elapsed = time.perf_counter() - started
    finally:
        reports = await stop_children(children)
    check_exactly_once(reports, written, k)
    return {
        "seconds": round(elapsed, 3),
        "per_s_exact": written.commits / elapsed,
        "shares": [int(r["commits"]) for r in reports],
        "batches": [int(r["batches"]) for r in reports],
        "redelivered": sum(int(r["redelivered"]) for r in reports),
        "server_redelivered": server_redelivered,
    }


async def run(commits: int, aggregates: int, workers: list[int], batch: int, url: str) -> dict[str, Any]:
    nc = await connect(url, pending_size=64 * 1024 * 1024)
    try:
        written = await write_commits(nc, commits, aggregates)
        base = await baseline(nc, written.stream, written.commits)
        timeout_s = max(60.0, 10 * written.commits / base)
        measured: dict[int, dict[str, Any]] = {}
        for k in workers:
            measured[k] = await measure(nc, url, written, k, batch, timeout_s)
        await nc.jetstream().delete_stream(written.stream)
    finally:
        await nc.close()
    results = {
        str(k): {
            "per_s": round(m["per_s_exact"]),
            "vs_baseline": round(m["per_s_exact"] / base, 3),
            "shares": m["shares"],
            "seconds": m["seconds"],
            "batches": m["batches"],
            "redelivered": m["redelivered"],
            "server_redelivered": m["server_redelivered"],
        }
        for k, m in measured.items()
    }
    scaling = None
    if 1 in measured and max(measured) != 1:
        scaling = round(measured[max(measured)]["per_s_exact"] / measured[1]["per_s_exact"], 3)
    return {
        "commits": written.commits,
        "commit_bytes": written.commit_bytes,
        "aggregates": aggregates,
        "communities": len(COMMUNITIES),
        "write_per_s": round(written.per_s),
        "batch": batch,
        "baseline_per_s": round(base),
        "workers": results,
        "scaling": scaling,
        "cpus": os.cpu_count(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


def _print_human(result: dict[str, Any]) -> None:
    print(
        f"stream of {result['commits']:,} commits (~{result['commit_bytes']:,} B each, "
        f"{result['aggregates']:,} aggregates, {result['communities']} communities), "
        f"written at {result['write_per_s']:,} commits/s"
    )
    base = result["baseline_per_s"]
    print(f"baseline: load_streams (Direct Get), this process {base:>8,} commits/s")
    for k, figures in result["workers"].items():
        label = f"projection, {k} worker process{'' if k == '1' else 'es'}"
        shares = " / ".join(f"{s:,}" for s in figures["shares"])
        redelivered = f"  redelivered {figures['redelivered']}" if figures["redelivered"] else ""
        print(
            f"{label:<35}{figures['per_s']:>14,} commits/s  {figures['vs_baseline']:.2f}x baseline  "
            f"shares {shares}{redelivered}"
        )
    print(f"(each worker fetches batches of {result['batch']:,} commits from the shared consumer)")
    if result["scaling"] is not None:
        top = max(result["workers"], key=int)
        print(f"scaling: rate({top}) / rate(1) = {result['scaling']:.2f}")
    print(
        "each worker process loads into its own chdb directory (a shard): a chdb directory cannot be "
        "shared between processes; with a ClickHouse server the workers would share one warehouse"
    )
    load = " ".join(f"{x:.2f}" for x in result["load_avg"])
    print(
        f"cpus {result['cpus']}, load average {load} "
        "(nats-server shares these cores with the worker processes)"
    )


def _worker_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"worker counts are integers separated by commas: {text!r}") from exc
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"worker counts must be 1 or more: {text!r}")
    return sorted(set(counts))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--aggregates", type=int, default=1_000)
    parser.add_argument("--workers", type=_worker_counts, default=[1, 2], help="worker counts (default 1,2)")
    parser.add_argument("--batch", type=int, default=2_000, help="commits per fetch of each worker")
    parser.add_argument("--json", action="store_true", help="only the JSON result line")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--nats-url", help=argparse.SUPPRESS)
    parser.add_argument("--stream", help=argparse.SUPPRESS)


def execute(args: argparse.Namespace) -> int:
    if args.child:
        return asyncio.run(_child(args.nats_url, args.stream, args.batch))
    commits = max(2, args.commits)
    aggregates = max(1, min(args.aggregates, commits))
    try:
        with NatsServer(name="bench-projection-nats") as server:
            result = asyncio.run(run(commits, aggregates, args.workers, max(1, args.batch), server.url))
    except BenchError as exc:
        print(f"cos bench projection: {exc}", file=sys.stderr)
        return 1
    if not args.json:
        _print_human(result)
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cos bench projection", description=__doc__)
    add_arguments(parser)
    return execute(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
