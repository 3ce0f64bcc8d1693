"""`cos keys`: create a member identity (24-word recovery phrase → did:key), restore it, seal it."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from shared.trust.errors import TrustError
from shared.trust.keyfile import read_keyfile, seal_keyfile, write_keyfile
from shared.trust.member_keys import MEMBER_SIGNING_PATH, MemberKeys
from shared.trust.recovery import new_phrase

__all__ = ["PASSPHRASE_ENV", "load_member_keys", "passphrase", "register"]

PASSPHRASE_ENV = "COS_PASSPHRASE"  # noqa: S105 - the name of a variable, not its value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `cos keys new` and `cos keys restore`."""
    keys = subparsers.add_parser(
        "keys",
        help="member keys: recovery phrase, did:key, encrypted keyfile",
        description=f"Member keys: a BIP-39 phrase, SLIP-0010 path {MEMBER_SIGNING_PATH}, did:key.",
    )
    actions = keys.add_subparsers(dest="keys_action", required=True, metavar="ACTION")

    new = actions.add_parser("new", help="create a new identity and print its recovery phrase")
    new.add_argument("--json", action="store_true", help='print {"did": …, "phrase": …}')
    _keyfile_argument(new, "also store the key encrypted in this new file")
    new.set_defaults(handler=_new)

    restore = actions.add_parser(
        "restore", help="read a recovery phrase on stdin and print the identity it restores"
    )
    restore.add_argument("--json", action="store_true", help='print {"did": …}')
    _keyfile_argument(restore, "also store the key encrypted in this new file")
    restore.set_defaults(handler=_restore)


def _keyfile_argument(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--keyfile",
        type=Path,
        metavar="PATH",
        help=f"{help_text} (passphrase from ${PASSPHRASE_ENV} or a prompt)",
    )


def passphrase(*, confirm: bool) -> str:
    """The keyfile passphrase: from $COS_PASSPHRASE, else asked on the terminal."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return from_env
    entered = getpass.getpass("Keyfile passphrase: ")
    if confirm and getpass.getpass("Repeat passphrase: ") != entered:
        raise ValueError("the two passphrases differ")
    return entered


def load_member_keys(keyfile: Path | None) -> MemberKeys:
    """The member's keys: from an encrypted keyfile if one is named, else from a phrase on stdin."""
    if keyfile is not None:
        return read_keyfile(keyfile, passphrase(confirm=False))
    return MemberKeys.from_phrase(sys.stdin.read())


def _new(args: argparse.Namespace) -> int:
    phrase = new_phrase()
    keys = MemberKeys.from_phrase(phrase)
    if (failure := _store(keys, args.keyfile)) is not None:
        return failure
    if args.json:
        print(json.dumps({"did": keys.did, "phrase": phrase}))
    else:
        print(keys.did)
        print("Recovery phrase (write it down; it alone restores this identity):")
        print(phrase)
    return 0


def _restore(args: argparse.Namespace) -> int:
    try:
        keys = MemberKeys.from_phrase(sys.stdin.read())
    except TrustError as exc:
        print(f"cos keys restore: {exc}", file=sys.stderr)
        return 1
    if (failure := _store(keys, args.keyfile)) is not None:
        return failure
    print(json.dumps({"did": keys.did}) if args.json else keys.did)
    return 0


def _store(keys: MemberKeys, keyfile: Path | None) -> int | None:
    """Seal `keys` into `keyfile` when one is named; an exit code if that fails, else None."""
    if keyfile is None:
        return None
    try:
        write_keyfile(keyfile, seal_keyfile(keys, passphrase(confirm=True)))
    except FileExistsError:
        print(f"cos keys: {keyfile} exists; not overwriting a keyfile", file=sys.stderr)
        return 1
    except (TrustError, ValueError, OSError) as exc:
        print(f"cos keys: cannot write {keyfile}: {exc}", file=sys.stderr)
        return 1
    return None
