"""`cos import FILE`: re-host a community from its bundle on the deployment at $NATS_URL.

The bundle is verified first (`cos audit verify`); only a bundle that verifies is imported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import nats.errors

from cos.audits.verify import verify_bundle
from cos.commands.export import DEFAULT_NATS, cli_connect
from shared.bundle import Bundle, BundleError, ImportSummary, import_community, read_bundle

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "import",
        help="re-host a community from its bundle (verified first) on this deployment",
        description=__doc__,
    )
    parser.add_argument("bundle", type=Path, metavar="FILE")
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS), help="($NATS_URL)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=_handle)


async def _import(url: str, bundle: Bundle) -> ImportSummary:
    nc = await cli_connect(url, "cos-import")
    try:
        return await import_community(nc, bundle)
    finally:
        await nc.close()


def _handle(args: argparse.Namespace) -> int:
    try:
        bundle = read_bundle(args.bundle)
    except BundleError as exc:
        print(f"cos import: {args.bundle}: {exc}", file=sys.stderr)
        return 1
    report = verify_bundle(bundle)
    if not report.ok:
        print(f"cos import: {args.bundle} does not verify; nothing imported", file=sys.stderr)
        print(report.text(), file=sys.stderr)
        return 1
    try:
        summary = asyncio.run(_import(args.nats_url, bundle))
    except BundleError as exc:
        print(f"cos import: {exc}", file=sys.stderr)
        return 1
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        print(f"cos import: no Community OS platform answers at {args.nats_url} ({exc})", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(summary.as_json()))
    else:
        counts = ", ".join(f"{s} {n}" for s, n in summary.commits.items()) or "none"
        print(f"imported {summary.community}: commits {counts}; {summary.checkpoints} checkpoints")
    return 0
