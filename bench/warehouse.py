"""Warehouse load rate: signed commits decoded into ClickHouse rows (embedded chdb), and view latency.

Usage: `cos bench warehouse [--commits N] [--server URL] [--json]`. Loads a sample bundle of N signed
commits into a temporary embedded warehouse; prints row building (decode + JSON) and load rates, the
time of each view, and a JSON line last. With `--server http://host:port` the same bundle is also
loaded into a fresh database on that ClickHouse server (dropped afterwards) and the server's load
rate and view times are printed beside chdb's, with their ratio. Figures, not pass/fail thresholds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from services.transparency.warehouse import (
    VIEWS,
    Warehouse,
    WarehouseError,
    event_rows,
    load_bundle,
    open_warehouse,
)
from shared.bundle import Bundle, read_bundle
from shared.transparency.samples import sample_log, write_sample_bundle


def _load_and_query(bundle: Bundle, warehouse: Warehouse) -> tuple[int, float, dict[str, float]]:
    started = time.perf_counter()
    summary = load_bundle(bundle, warehouse)
    load_s = time.perf_counter() - started
    views = {}
    for name in VIEWS:
        started = time.perf_counter()
        warehouse.query(f"SELECT count() FROM {name}")  # noqa: S608 - our own view names
        views[name] = round((time.perf_counter() - started) * 1000, 1)
    return summary.events, load_s, views


def _on_server(bundle: Bundle, url: str) -> tuple[int, float, dict[str, float]]:
    """The bundle into a fresh database on the server, dropped afterwards."""
    database = f"cos_bench_{uuid.uuid4().hex[:10]}"
    admin = open_warehouse(url)
    try:
        admin.execute(f"CREATE DATABASE {database}")
        try:
            warehouse = open_warehouse(f"{url.rstrip('/')}/{database}")
            try:
                return _load_and_query(bundle, warehouse)
            finally:
                warehouse.close()
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {database}")
    finally:
        admin.close()


def run(commits: int, server: str | None = None) -> dict[str, Any]:
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
        events, load_s, views = _load_and_query(bundle, warehouse)
    finally:
        warehouse.close()
    result: dict[str, Any] = {
        "commits": commits,
        "events": events,
        "row_build_per_s": round(n_rows / rows_s),
        "load_events_per_s": round(events / load_s),
        "load_vs_row_build": round(rows_s / load_s, 3),
        "view_ms": views,
    }
    if server is not None:
        server_events, server_load_s, server_views = _on_server(bundle, server)
        result["server"] = {
            "load_events_per_s": round(server_events / server_load_s),
            "load_vs_chdb": round(load_s / server_load_s, 3),
            "view_ms": server_views,
        }
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--server", help="also load into this ClickHouse server (http[s]://host:port)")
    parser.add_argument("--json", action="store_true", help="only the JSON result line")


def execute(args: argparse.Namespace) -> int:
    try:
        result = run(max(2, args.commits), args.server)
    except WarehouseError as exc:
        print(f"cos bench warehouse: {exc}", file=sys.stderr)
        return 1
    if not args.json:
        print(f"row building (decode + JSON)  {result['row_build_per_s']:>10,} events/s")
        print(f"load into embedded ClickHouse {result['load_events_per_s']:>10,} events/s  "
              f"({result['load_vs_row_build']:.0%} of row building alone)")  # fmt: skip
        for name, ms in result["view_ms"].items():
            print(f"view {name:<24} {ms:>10} ms")
        if "server" in result:
            server = result["server"]
            print(f"load into the ClickHouse server {server['load_events_per_s']:>8,} events/s  "
                  f"({server['load_vs_chdb']:.0%} of embedded)")  # fmt: skip
            for name, ms in server["view_ms"].items():
                print(f"server view {name:<17} {ms:>10} ms")
    print(json.dumps(result))
    return 0
