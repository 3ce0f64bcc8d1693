"""`cos vc`: sign a VCDM 2.0 credential with a member's did:key (eddsa-jcs-2022), or verify one."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cos.commands.keys import PASSPHRASE_ENV, load_member_keys
from shared.trust.canonical_json import JsonError, loads_strict
from shared.trust.credentials import issue_credential, verify_credential
from shared.trust.errors import TrustError
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
    try:
        verified = verify_credential(credential, default_resolver(), now=datetime.now(UTC))
    except TrustError as exc:
        print(f"invalid: {exc} [{exc.reason}]", file=sys.stderr)
        return 1
    print(f"valid: issued by {verified.issuer}, signed with {verified.verification_method}")
    return 0
