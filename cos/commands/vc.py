"""`cos vc`: sign a VCDM 2.0 credential with a member's did:key (eddsa-jcs-2022), or verify one.

`cos vc verify` resolves a did:key issuer directly and a did:webvh issuer from its log (`--did-log
FILE`, or over HTTPS), and checks the credential's Bitstring Status Lists (`--status-list FILE`,
or over HTTPS) unless told not to (`--no-status`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cos.commands.did import fetch_url, local_log_fetcher
from cos.commands.keys import PASSPHRASE_ENV, load_member_keys
from shared.trust.canonical_json import JsonError, loads_strict
from shared.trust.credentials import issue_credential, verify_credential
from shared.trust.errors import TrustError
from shared.trust.fetching import Fetcher, mapping_fetcher
from shared.trust.resolver import default_resolver

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `cos vc sign` and `cos vc verify`."""
    vc = subparsers.add_parser(
        "vc",
        help="verifiable credentials: sign and verify (eddsa-jcs-2022)",
        description="W3C Verifiable Credentials 2.0 with DataIntegrityProof / eddsa-jcs-2022.",
    )
    actions = vc.add_subparsers(dest="vc_action", required=True, metavar="ACTION")

    sign = actions.add_parser(
        "sign",
        help="sign an unsigned credential with the key of the recovery phrase read on stdin",
        description="Sign FILE (an unsigned VCDM 2.0 credential) and print the signed credential. "
        "The issuer is set to the signer's did:key, or must already be it.",
    )
    sign.add_argument("file", type=Path, metavar="FILE")
    sign.add_argument(
        "--keyfile",
        type=Path,
        metavar="PATH",
        help=f"sign with this encrypted keyfile (passphrase from ${PASSPHRASE_ENV} or a prompt) "
        "instead of a phrase on stdin",
    )
    sign.set_defaults(handler=_sign)

    verify = actions.add_parser(
        "verify",
        help="verify a credential: exit 0 when valid, else 1 with the reason on stderr",
    )
    verify.add_argument("file", type=Path, metavar="FILE", help="the credential ('-' for stdin)")
    verify.add_argument(
        "--did-log",
        type=Path,
        metavar="FILE",
        help="the did.jsonl of a did:webvh issuer, read instead of fetching it over HTTPS",
    )
    verify.add_argument(
        "--did-witness", type=Path, metavar="FILE", help="the did-witness.json that goes with --did-log"
    )
    verify.add_argument(
        "--status-list",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a status-list credential to check status against instead of fetching it (repeatable)",
    )
    verify.add_argument("--no-status", action="store_true", help="do not check the credential's status lists")
    verify.set_defaults(handler=_verify)


def _read_json(path: Path) -> Any:
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    return loads_strict(text)


def _sign(args: argparse.Namespace) -> int:
    try:
        credential = _read_json(args.file)
    except (OSError, UnicodeDecodeError, JsonError) as exc:
        print(f"cos vc sign: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    if not isinstance(credential, dict):
        print("cos vc sign: a credential is a JSON object", file=sys.stderr)
        return 1
    try:
        keys = load_member_keys(args.keyfile)
        signed = issue_credential(credential, keys, created=datetime.now(UTC))
    except (TrustError, OSError) as exc:
        print(f"cos vc sign: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(signed, indent=2, ensure_ascii=False))
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        credential = _read_json(args.file)
    except (OSError, UnicodeDecodeError, JsonError) as exc:
        print(f"invalid: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    did_logs = local_log_fetcher(args.did_log, args.did_witness) if args.did_log else fetch_url
    try:
        status_lists = None if args.no_status else _status_list_fetcher(args.status_list)
    except (OSError, ValueError) as exc:
        print(f"invalid: cannot read a status list: {exc}", file=sys.stderr)
        return 1
    try:
        verified = verify_credential(
            credential,
            default_resolver(webvh_fetcher=did_logs, now=now),
            now=now,
            status_list_fetcher=status_lists,
        )
    except TrustError as exc:
        print(f"invalid: {exc} [{exc.reason}]", file=sys.stderr)
        return 1
    print(f"valid: issued by {verified.issuer}, signed with {verified.verification_method}")
    return 0


def _status_list_fetcher(paths: list[Path]) -> Fetcher:
    """The given status-list files, served at the URL each names as its `id`; else HTTPS."""
    if not paths:
        return fetch_url
    lists: dict[str, bytes] = {}
    for path in paths:
        body = path.read_bytes()
        document = loads_strict(body)
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise ValueError(f"{path} is not a status-list credential naming its URL in 'id'")
        lists[document["id"]] = body
    return mapping_fetcher(lists)
