"""`cos run`: the whole platform on this machine, with an embedded NATS server."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from cos.platform import PlatformOptions, run


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="start the platform (embedded NATS, services, gateway) on this machine"
    )
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("COS_DATA", "var")))
    parser.add_argument("--host", default=os.environ.get("COS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("COS_PORT", "8000")))
    parser.add_argument(
        "--nats-url",
        default=os.environ.get("NATS_URL"),
        help="use this NATS server instead of starting one (default: $NATS_URL)",
    )
    parser.add_argument(
        "--no-demo",
        dest="demo",
        action="store_false",
        help="do not seed the demo community (seeded by default, once; later starts find it)",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    return run(
        PlatformOptions(
            data_dir=args.data_dir.resolve(),
            host=args.host,
            port=args.port,
            nats_url=args.nats_url,
            demo=args.demo,
        )
    )
