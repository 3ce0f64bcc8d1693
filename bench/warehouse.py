"""Warehouse load rate: signed commits decoded into ClickHouse rows (embedded chdb), and view latency.

Usage: `cos bench warehouse [--commits N] [--json]`. Loads a sample bundle of N signed commits into
a temporary embedded warehouse; prints row building (decode + JSON) and load rates, the time of
each view, and a JSON line last. Figures, not pass/fail thresholds.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from services.transparency.warehouse import VIEWS, event_rows, load_bundle, open_warehouse
from shared.bundle import read_bundle
from shared.transparency.samples import sample_log, write_sample_bundle


def run(commits: int) -> dict[str, Any]:
    log = sample_log("bench", {"MEMBERSHIP": commits // 2, "GOVERNANCE": commits - commits // 2})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        write_sample_bundle(path, "bench", log)
        bundle = read_bundle(path)
    started = time.perf_counter()
    n_rows = sum(len(event_rows(s, c.sequence, c.data)) for s, c in bundle.all_commits())
    rows_s = time.perf_counter() - started
    warehouse = open_warehouse(None)
    try:
        started = time.perf_counter()
        summary = load_bundle(bundle, warehouse)
        load_s = time.perf_counter() - started
        views = {}
        for name in VIEWS:
            started = time.perf_counter()
            warehouse.query(f"SELECT count() FROM {name}")  # noqa: S608 - our own view names
            views[name] = round((time.perf_counter() - started) * 1000, 1)
    finally:
        warehouse.close()
    return {
        "commits": commits,
        "events": summary.events,
        "row_build_per_s": round(n_rows / rows_s),
        "load_events_per_s": round(summary.events / load_s),
        "load_vs_row_build": round(rows_s / load_s, 3),
        "view_ms": views,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--json", action="store_true", help="only the JSON result line")


def execute(args: argparse.Namespace) -> int:
    result = run(max(2, args.commits))
    if not args.json:
        print(f"row building (decode + JSON)  {result['row_build_per_s']:>10,} events/s")
        print(f"load into embedded ClickHouse {result['load_events_per_s']:>10,} events/s  "
              f"({result['load_vs_row_build']:.0%} of row building alone)")  # fmt: skip
        for name, ms in result["view_ms"].items():
            print(f"view {name:<24} {ms:>10} ms")
    print(json.dumps(result))
    return 0
