"""What a member waits for on her first read after a burst of writes: lazy catch-up against following.

Usage: `cos bench catchup [--burst N] [--bursts K] [--json]`. Two replicas of a small service share
one JetStream stream on an embedded nats-server. The writer stores K bursts of N commits; after
each burst (and a pause, as when the member opens the page a moment later) the reader answers one
query from its in-memory read model, kept by `shared.catchup.CatchUp` two ways in the same run:

- lazy: nothing applies the log until a query arrives, which then applies the whole burst;
- following: `follow_stream` applies commits as they land (woken by each commit), so the query
  only checks that the model holds the log's head.

Both must answer the same totals. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import nats

from shared.application import ServiceApplication
from shared.catchup import CatchUp, follow_stream, unfollow_stream
from shared.domain import Aggregate, Event, applies
from shared.eventcodec import EventRegistry
from shared.natsserver import NatsServer

STREAM, PREFIX = "BENCHCATCHUP", "benchcatchup"


class Tallied(Event, frozen=True, tag="benchcatchup.tallied.v1"):
    amount: int


class Tally(Aggregate):
    @applies(Tallied)
    def _tallied(self, event: Tallied) -> None:
        self.total = getattr(self, "total", 0) + event.amount


class Tallies(ServiceApplication):
    registry = EventRegistry([Tallied])


class Totals:
    """The read model: the sum of every amount tallied."""

    def __init__(self) -> None:
        self.position = 0
        self.total = 0

    def apply(self, event: Event) -> None:
        if isinstance(event, Tallied):
            self.total += event.amount


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--burst", type=int, default=600, help="commits per burst")
    parser.add_argument("--bursts", type=int, default=5, help="bursts per mode")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between a burst and the read")
    parser.add_argument("--json", action="store_true", help="only the JSON result line")


def _env(url: str) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "shared.persistence.jetstream",
        "NATS_URL": url,
        "NATS_STREAM": STREAM,
        "NATS_SUBJECT_PREFIX": PREFIX,
    }


def _burst(writer: Tallies, label: str, size: int) -> None:
    for i in range(size):
        tally = Tally(f"acme.tally.{label}-{i}")
        tally.trigger(Tallied, 1, amount=1)
        writer.save(tally)


async def _mode(url: str, writer: Tallies, follow: bool, args: argparse.Namespace) -> dict[str, Any]:
    reader = await asyncio.to_thread(Tallies, _env(url))
    totals = Totals()
    catch_up = CatchUp(reader, [totals], name="bench-following" if follow else "bench-lazy")
    nc = await nats.connect(url)
    landed = None
    try:
        await asyncio.to_thread(catch_up)
        if follow:
            landed = await follow_stream(nc, catch_up, f"{PREFIX}.*.*.*")
        waits, answers = [], []
        for burst in range(args.bursts):
            label = f"{'f' if follow else 'l'}{burst}"
            await asyncio.to_thread(_burst, writer, label, args.burst)
            await asyncio.sleep(args.pause)
            started = time.perf_counter()
            answers.append(await asyncio.to_thread(catch_up.query, lambda: totals.total))
            waits.append((time.perf_counter() - started) * 1000)
        return {
            "first_read_ms": [round(w, 2) for w in waits],
            "median_ms": round(statistics.median(waits), 2),
            "totals": answers,
        }
    finally:
        await unfollow_stream(catch_up, landed)
        await nc.close()
        await asyncio.to_thread(reader.close)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with NatsServer() as server:
        writer = await asyncio.to_thread(Tallies, _env(server.url))
        try:
            lazy = await _mode(server.url, writer, False, args)
            following = await _mode(server.url, writer, True, args)
        finally:
            await asyncio.to_thread(writer.close)
    # Each mode's reader starts from the whole stream: the second also counts the first's bursts.
    written = [args.burst * (i + 1) for i in range(args.bursts)]
    if lazy["totals"] != written or following["totals"] != [args.burst * args.bursts + w for w in written]:
        raise RuntimeError(f"the read models disagree with what was written: {lazy} {following}")
    return {
        "burst": args.burst,
        "bursts": args.bursts,
        "lazy": lazy,
        "following": following,
        "lazy_vs_following": round(lazy["median_ms"] / max(following["median_ms"], 1e-3), 1),
    }


def execute(args: argparse.Namespace) -> int:
    result = asyncio.run(run(args))
    if not args.json:
        lazy, following = result["lazy"]["median_ms"], result["following"]["median_ms"]
        print(f"first read after a burst of {args.burst:,} commits written by another replica")
        print(f"  lazy catch-up (applies the burst in the query)   median {lazy:>8} ms")
        print(f"  following the stream (applied as it landed)      median {following:>8} ms")
        print(f"  lazy / following                                 {result['lazy_vs_following']:>8}x")
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cos bench catchup", description=__doc__)
    add_arguments(parser)
    return execute(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
