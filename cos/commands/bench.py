"""`cos bench …`: performance measurements that print ratios against same-run baselines."""

from __future__ import annotations

import argparse
from typing import Any

from bench import append


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser("bench", help="run a benchmark")
    benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    append_parser = benches.add_parser("append", help="signed append and replay vs raw publish")
    append.add_arguments(append_parser)
    append_parser.set_defaults(handler=append.execute)
