"""`cos sql "SELECT …"`: query every event in the warehouse (ClickHouse SQL).

Before the query runs, the warehouse catches up with the deployment at $NATS_URL (only what is new
is loaded). The warehouse is embedded (chdb, in `<data dir>/warehouse/<community or _all>`) unless
`--warehouse http(s)://…` (or $COS_WAREHOUSE) names a ClickHouse server (22.8 or newer; an older
one is refused with its version named). `--community` keeps a warehouse of that community's events
alone; `--bundle FILE` queries an exported bundle offline.

Table `events` and views `membership_growth`, `participation`, `turnout_per_poll`,
`announcement_reach`; see `services/transparency/warehouse.py` for their columns.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

import nats.errors

from cos.commands.export import DEFAULT_NATS, cli_connect
from services.transparency.warehouse import (
    MIN_SERVER_VERSION,
    LoadSummary,
    QueryResult,
    Warehouse,
    WarehouseError,
    default_path,
    load_bundle,
    load_streams,
    open_warehouse,
)
from shared.bundle import BundleError, read_bundle
from shared.subjects import InvalidSubject, check_token

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sql",
        help="query all events in the ClickHouse warehouse (views for growth, participation, turnout, reach)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("query", metavar="SQL")
    parser.add_argument("--community", help="a warehouse of this community's events only")
    parser.add_argument("--bundle", type=Path, metavar="FILE", help="query this bundle (offline, temporary)")
    parser.add_argument(
        "--warehouse",
        default=os.environ.get("COS_WAREHOUSE"),
        metavar="PATH|URL",
        help="chdb directory, or ClickHouse server URL http(s)://user:password@host:port/database "
        f"(ClickHouse {'.'.join(map(str, MIN_SERVER_VERSION))} or newer; $COS_WAREHOUSE)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path("var"), help="where the embedded warehouse lives"
    )
    parser.add_argument("--no-load", action="store_true", help="query what is loaded, without catching up")
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS), help="($NATS_URL)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(handler=_handle)


async def _catch_up(url: str, warehouse: Warehouse, community: str | None) -> LoadSummary:
    nc = await cli_connect(url, "cos-sql")
    try:
        return await load_streams(nc, warehouse, community=community)
    finally:
        await nc.close()


def _handle(args: argparse.Namespace) -> int:
    try:
        community = check_token(args.community, "community") if args.community else None
    except InvalidSubject as exc:
        print(f"cos sql: {exc}", file=sys.stderr)
        return 2
    try:
        if args.bundle is not None:
            bundle = read_bundle(args.bundle)
            warehouse = open_warehouse(None)
            load_bundle(bundle, warehouse)
        else:
            target = args.warehouse or default_path(args.data_dir, community)
            warehouse = open_warehouse(target)
    except (BundleError, WarehouseError) as exc:
        print(f"cos sql: {exc}", file=sys.stderr)
        return 1
    try:
        if args.bundle is None and not args.no_load:
            try:
                asyncio.run(_catch_up(args.nats_url, warehouse, community))
            except (OSError, TimeoutError, nats.errors.Error) as exc:
                print(
                    f"cos sql: no deployment answers at {args.nats_url} ({exc}); use --no-load to query "
                    "what is loaded",
                    file=sys.stderr,
                )
                return 3
        result = warehouse.query(args.query)
    except WarehouseError as exc:
        print(f"cos sql: {exc}", file=sys.stderr)
        return 1
    finally:
        warehouse.close()
    _print(result, args.format)
    return 0


def _print(result: QueryResult, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([dict(zip(result.columns, row, strict=True)) for row in result.rows], default=str))
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows(result.rows)
        return
    cells = [[("" if v is None else str(v)) for v in row] for row in result.rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(result.columns)]
    print("  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    print(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
