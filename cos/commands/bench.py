"""`cos bench …`: performance measurements that print ratios against same-run baselines.

Every module in `bench/` that defines `add_arguments(parser)` and `execute(args) -> int` is a
benchmark named after the module; the first line of its docstring is its help.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Any

import bench


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser("bench", help="run a benchmark")
    benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bench.{info.name}")
        add_arguments = getattr(module, "add_arguments", None)
        execute = getattr(module, "execute", None)
        if add_arguments is None or execute is None:
            continue
        summary = (module.__doc__ or info.name).strip().splitlines()[0]
        bench_parser = benches.add_parser(info.name, help=summary, description=module.__doc__)
        bench_parser.formatter_class = argparse.RawDescriptionHelpFormatter
        add_arguments(bench_parser)
        bench_parser.set_defaults(handler=execute)
