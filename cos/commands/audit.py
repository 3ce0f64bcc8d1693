"""`cos audit …`: offline verification of exported bundles (checks live in `cos.audits`)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Any

import cos.audits


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audit", help="verify an exported bundle offline, needing nothing but the bundle"
    )
    checks = parser.add_subparsers(dest="check", required=True, metavar="CHECK")
    for info in sorted(pkgutil.iter_modules(cos.audits.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"cos.audits.{info.name}")
        module.register(checks)
