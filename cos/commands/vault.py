"""`cos vault`: the member's encrypted personal vault, encrypted here with keys from her recovery phrase.

The phrase is read from `--phrase-file` or stdin; the server (over `$NATS_URL`) only ever receives
ciphertext. `cos vault restore DIR` on a new machine brings back every item from the phrase alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import nats.errors

from services.social.client.bus import social_request
from services.social.client.vault_client import VaultClient
from services.social.client.vault_crypto import KINDS, VaultDecryptionError, VaultKeys, VaultPlaintext
from shared.commands import CommandRejected, CommandUnavailable
from shared.trust.errors import TrustError

__all__ = ["register"]

DEFAULT_NATS = "nats://127.0.0.1:4222"


def register(subparsers: Any) -> None:
    """Add `cos vault put|get|list|delete|restore`."""
    vault: argparse.ArgumentParser = subparsers.add_parser(
        "vault",
        help="the encrypted personal vault (client-side XChaCha20-Poly1305, keys from the phrase)",
        description="A member's vault: items encrypted on this machine with keys derived from her "
        "recovery phrase (read from --phrase-file or stdin); the server stores ciphertext only.",
    )
    vault.add_argument("--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS), help="($NATS_URL)")
    vault.add_argument("--community", required=True, help="the community whose vault service to use")
    vault.add_argument("--phrase-file", type=Path, metavar="PATH", help="read the recovery phrase here")
    actions = vault.add_subparsers(dest="vault_action", required=True, metavar="ACTION")

    put = actions.add_parser("put", help="store FILE (or '-' for stdin) as item NAME, a new version")
    put.add_argument("name")
    put.add_argument("file", type=Path)
    put.add_argument("--kind", choices=KINDS, default="file")
    put.add_argument("--media-type", default="application/octet-stream")
    put.set_defaults(handler=_put)

    get = actions.add_parser("get", help="decrypt item NAME to stdout (or --out FILE)")
    get.add_argument("name")
    get.add_argument("--version", type=int)
    get.add_argument("--out", type=Path)
    get.set_defaults(handler=_get)

    listing = actions.add_parser("list", help="the items: name, kind, version, size")
    listing.set_defaults(handler=_list)

    delete = actions.add_parser("delete", help="delete item NAME (its versions stay in the signed log)")
    delete.add_argument("name")
    delete.set_defaults(handler=_delete)

    restore = actions.add_parser("restore", help="decrypt every item into DIR (a new device)")
    restore.add_argument("directory", type=Path)
    restore.set_defaults(handler=_restore)


def _keys(args: argparse.Namespace) -> VaultKeys:
    phrase = args.phrase_file.read_text(encoding="utf-8") if args.phrase_file else sys.stdin.read()
    return VaultKeys.from_phrase(phrase)


def _run(args: argparse.Namespace, work: Callable[[VaultClient], Coroutine[Any, Any, int]]) -> int:
    try:
        keys = _keys(args)
    except (TrustError, OSError) as exc:
        print(f"cos vault: cannot derive the vault keys: {exc}", file=sys.stderr)
        return 1

    async def call(name: str, payload: dict[str, Any]) -> Any:
        return await social_request(args.nats_url, name, payload)

    try:
        return asyncio.run(work(VaultClient(keys, args.community, call)))
    except CommandRejected as exc:
        print(f"cos vault: refused ({exc.type}): {exc.message}", file=sys.stderr)
        return 1
    except VaultDecryptionError as exc:
        print(f"cos vault: {exc}", file=sys.stderr)
        return 1
    except (CommandUnavailable, OSError, TimeoutError, nats.errors.Error) as exc:
        print(f"cos vault: no Community OS platform answers at {args.nats_url} ({exc})", file=sys.stderr)
        return 3


def _put(args: argparse.Namespace) -> int:
    try:
        content = sys.stdin.buffer.read() if str(args.file) == "-" else args.file.read_bytes()
    except OSError as exc:
        print(f"cos vault: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1

    async def work(vault: VaultClient) -> int:
        version = await vault.put(VaultPlaintext(args.name, args.kind, content, args.media_type))
        print(f"{args.name}: version {version}")
        return 0

    return _run(args, work)


def _get(args: argparse.Namespace) -> int:
    async def work(vault: VaultClient) -> int:
        entry = await vault.get(args.name, args.version)
        if args.out:
            args.out.write_bytes(entry.plaintext.content)
        else:
            sys.stdout.buffer.write(entry.plaintext.content)
            sys.stdout.flush()
        return 0

    return _run(args, work)


def _list(args: argparse.Namespace) -> int:
    async def work(vault: VaultClient) -> int:
        for entry in await vault.restore():
            content = entry.plaintext
            print(f"{content.name}\t{content.kind}\tv{entry.version}\t{len(content.content)} bytes")
        return 0

    return _run(args, work)


def _delete(args: argparse.Namespace) -> int:
    async def work(vault: VaultClient) -> int:
        await vault.delete(args.name)
        print(f"{args.name}: deleted")
        return 0

    return _run(args, work)


def _restore(args: argparse.Namespace) -> int:
    async def work(vault: VaultClient) -> int:
        entries = await vault.restore()
        args.directory.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            target = args.directory / _file_name(entry.plaintext.name)
            target.write_bytes(entry.plaintext.content)
            print(f"{entry.plaintext.name} -> {target}")
        print(f"restored {len(entries)} items", file=sys.stderr)
        return 0

    return _run(args, work)


def _file_name(name: str) -> str:
    """A vault name as one safe file name (no directories, no parent references)."""
    safe = "".join("_" if c in "/\\:\0" else c for c in name).strip()
    return safe if safe not in ("", ".", "..") else "_"
