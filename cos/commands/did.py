"""`cos did resolve DID`: print the DID document of a did:key, or of a did:webvh from its log.

A did:webvh is resolved from a local `did.jsonl` (`--log FILE`, with `--witness FILE` when its
entries are witnessed) or, without one, from the HTTPS URL the DID maps to. The DID may carry a
`?versionId=`, `?versionTime=` or `?versionNumber=` query to resolve an earlier version.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from shared.trust.errors import DidError, WebvhError
from shared.trust.fetching import Fetcher, FetchError
from shared.trust.resolver import default_resolver
from shared.trust.webvh_did import WEBVH_PREFIX
from shared.trust.webvh_resolver import WebvhResolver

__all__ = ["fetch_url", "local_log_fetcher", "register"]

_TIMEOUT_SECONDS = 10
_MAX_BYTES = 16 * 1024 * 1024


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `cos did resolve`."""
    did = subparsers.add_parser("did", help="DIDs: resolve a DID to its DID document")
    actions = did.add_subparsers(dest="did_action", required=True, metavar="ACTION")
    resolve = actions.add_parser(
        "resolve",
        help="print the DID document of DID as JSON",
        description="Resolve a did:key, or a did:webvh (from --log FILE, else over HTTPS).",
    )
    resolve.add_argument("did", metavar="DID", help="the DID (a did:webvh may add ?versionId=… and the like)")
    resolve.add_argument(
        "--log", type=Path, metavar="FILE", help="a did:webvh's did.jsonl, read instead of HTTPS"
    )
    resolve.add_argument(
        "--witness", type=Path, metavar="FILE", help="the did-witness.json that goes with --log"
    )
    resolve.add_argument(
        "--metadata",
        action="store_true",
        help="print the whole resolution result (document and its metadata), not only the document",
    )
    resolve.set_defaults(handler=_resolve)


def fetch_url(url: str) -> bytes:
    """GET `url` with urllib: HTTPS, or plain HTTP to this machine only; FetchError on any failure.

    Names under `.localhost` are this machine (RFC 6761): they are fetched from 127.0.0.1 over
    plain HTTP, where a local `cos run` gateway serves them, and never leave the machine.
    """
    parts = urllib.parse.urlsplit(url)
    headers = {"Accept": "application/jsonl, application/json"}
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        headers["Host"] = parts.netloc
        port = f":{parts.port}" if parts.port else ""
        url = urllib.parse.urlunsplit(("http", f"127.0.0.1{port}", parts.path, parts.query, ""))
        parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(parts.hostname)):
        raise FetchError(f"refusing to fetch {url}: only https (or http to this machine) is allowed")
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked above
            body: bytes = response.read(_MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchError(f"cannot fetch {url}: {exc}") from exc
    if len(body) > _MAX_BYTES:
        raise FetchError(f"{url} is larger than {_MAX_BYTES} bytes")
    return body


def local_log_fetcher(log: Path, witness: Path | None = None) -> Fetcher:
    """Serve a local `did.jsonl` (and `did-witness.json`) in place of any did:webvh's published files.

    Safe for any DID: resolution refuses a log whose SCID and DID are not the ones asked for.
    """

    def fetch(url: str) -> bytes:
        if url.endswith("/did.jsonl"):
            return log.read_bytes()
        if url.endswith("/did-witness.json") and witness is not None:
            return witness.read_bytes()
        raise FetchError(f"{url} is not among the local files given")

    return fetch


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _resolve(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    try:
        if args.did.startswith(WEBVH_PREFIX):
            fetcher = local_log_fetcher(args.log, args.witness) if args.log else fetch_url
            resolution = WebvhResolver(fetcher, now=now).resolve_url(args.did)
            if resolution.deactivated:
                print(f"cos did resolve: note: {args.did} has been deactivated", file=sys.stderr)
            print(json.dumps(resolution.to_json() if args.metadata else resolution.document, indent=2))
            return 0
        document = default_resolver().resolve(args.did)
    except WebvhError as exc:
        print(f"cos did resolve: {exc} [{exc.reason.error_code}: {exc.reason}]", file=sys.stderr)
        return 1
    except DidError as exc:
        print(f"cos did resolve: {exc} [{exc.reason}]", file=sys.stderr)
        return 1
    print(json.dumps(document, indent=2))
    return 0
