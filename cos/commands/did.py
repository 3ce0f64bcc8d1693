"""`cos did resolve DID`: print the DID document of a DID (did:key today)."""

from __future__ import annotations

import argparse
import json
import sys

from shared.trust.errors import DidError
from shared.trust.resolver import default_resolver

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `cos did resolve`."""
    did = subparsers.add_parser("did", help="DIDs: resolve a DID to its DID document")
    actions = did.add_subparsers(dest="did_action", required=True, metavar="ACTION")
    resolve = actions.add_parser("resolve", help="print the DID document of DID as JSON")
    resolve.add_argument("did", metavar="DID")
    resolve.set_defaults(handler=_resolve)


def _resolve(args: argparse.Namespace) -> int:
    try:
        document = default_resolver().resolve(args.did)
    except DidError as exc:
        print(f"cos did resolve: {exc} [{exc.reason}]", file=sys.stderr)
        return 1
    print(json.dumps(document, indent=2))
    return 0
