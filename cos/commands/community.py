"""`cos community`: create and list the communities of a running platform, import and export members."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats.errors

from cos.commands.keys import load_member_keys
from shared.commands import CommandClient, CommandRejected, CommandUnavailable
from shared.natsclient import connect
from shared.statements import sign_statement
from shared.trust.errors import TrustError

__all__ = ["register"]

DEFAULT_NATS = "nats://127.0.0.1:4222"


def register(subparsers: Any) -> None:
    community: argparse.ArgumentParser = subparsers.add_parser(
        "community", help="communities (tenants): create, list, import and export members"
    )
    community.add_argument(
        "--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS), help="the platform's NATS ($NATS_URL)"
    )
    actions = community.add_subparsers(dest="community_action", required=True, metavar="ACTION")

    create = actions.add_parser("create", help="create a community (as the hosting provider)")
    create.add_argument("slug", help="the community token: a-z A-Z 0-9 _ -")
    create.add_argument("--name", required=True)
    create.add_argument("--admin", required=True, metavar="DID", help="the first admin's did:key")
    create.add_argument("--admin-name", default="Founding admin")
    create.add_argument(
        "--join-mode", choices=("invite_only", "application", "open_with_approval"), default="application"
    )
    create.add_argument("--policy", type=Path, metavar="JSON", help="a full policy document (roles, types…)")
    create.set_defaults(handler=_create)

    listing = actions.add_parser(
        "list", help="every community hosted here, with its members in each standing (hosting provider)"
    )
    listing.add_argument("--search", default="", metavar="TEXT", help="only slugs or names containing TEXT")
    listing.add_argument("--all", action="store_true", help="archived communities too")
    listing.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    listing.set_defaults(handler=_list)

    importing = actions.add_parser(
        "import", help="import a member spreadsheet (CSV); a dry run unless --apply"
    )
    importing.add_argument("slug")
    importing.add_argument("csv", type=Path)
    importing.add_argument("--apply", action="store_true", help="record the import (default: dry run)")
    importing.add_argument("--import-valid", action="store_true", help="with broken rows, import the rest")
    _keyfile(importing)
    importing.set_defaults(handler=_import)

    export = actions.add_parser("export", help="export the members as CSV or JSON")
    export.add_argument("slug")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    _keyfile(export)
    export.set_defaults(handler=_export)


def _keyfile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keyfile", type=Path, metavar="PATH", help="the admin's keyfile (else her recovery phrase on stdin)"
    )


def _create(args: argparse.Namespace) -> int:
    policy: dict[str, Any] = json.loads(args.policy.read_text()) if args.policy else {}
    policy.setdefault("join_mode", args.join_mode)
    payload = {
        "slug": args.slug,
        "name": args.name,
        "admin": args.admin,
        "admin_name": args.admin_name,
        "policy": policy,
    }
    return _call(args.nats_url, "create_community", payload, _print_community)


def _list(args: argparse.Namespace) -> int:
    payload = {"text": args.search, "include_archived": args.all}
    show = (lambda result: print(json.dumps(result, ensure_ascii=False))) if args.json else _print_listing
    return _call(args.nats_url, "communities", payload, show)


def _import(args: argparse.Namespace) -> int:
    sheet = args.csv.read_text(encoding="utf-8")
    body = {
        "csv_sha256": hashlib.sha256(sheet.encode()).hexdigest(),
        "dry_run": not args.apply,
        "import_valid": args.import_valid,
    }
    statement = _signed(args, "import_members", body)
    if statement is None:
        return 2
    payload = {"community": args.slug, "statement": statement, "csv": sheet}
    return _call(args.nats_url, "import_members", payload, _print_report)


def _export(args: argparse.Namespace) -> int:
    statement = _signed(args, "export_members", {"format": args.format})
    if statement is None:
        return 2
    payload = {"community": args.slug, "statement": statement}
    return _call(args.nats_url, "export_members", payload, lambda result: print(result["content"], end=""))


def _signed(args: argparse.Namespace, action: str, body: dict[str, Any]) -> dict[str, Any] | None:
    try:
        keys = load_member_keys(args.keyfile)
    except (TrustError, ValueError, OSError) as exc:
        print(f"cos community: cannot load the admin's keys: {exc}", file=sys.stderr)
        return None
    return sign_statement(
        keys,
        action=f"membership.{action}",
        community=args.slug,
        body=body,
        nonce=secrets.token_hex(16),
        now=datetime.now(tz=UTC),
    )


def _call(url: str, name: str, payload: dict[str, Any], show: Any) -> int:
    try:
        result = asyncio.run(_request(url, name, payload))
    except CommandRejected as exc:
        print(f"cos community: refused ({exc.type}): {exc.message}", file=sys.stderr)
        return 1
    except (CommandUnavailable, OSError, TimeoutError, nats.errors.Error) as exc:
        print(
            f"cos community: no Community OS platform answers at {url} ({exc}); start one with `cos run` "
            "or set NATS_URL",
            file=sys.stderr,
        )
        return 3
    show(result)
    return 0


async def _request(url: str, name: str, payload: dict[str, Any]) -> Any:
    nc = await connect(
        url,
        name="cos-community",
        max_reconnect_attempts=1,  # nats-py reads 0 as "forever" on the first connect
        reconnect_time_wait=0.1,
        connect_timeout=3,
        allow_reconnect=False,
        error_cb=_quiet,
    )
    try:
        return await CommandClient(nc, timeout=30).call("membership", name, payload)
    finally:
        await nc.close()


async def _quiet(_: Exception) -> None:
    """Connection errors are reported once, by _call, not logged per attempt."""


def _print_community(result: dict[str, Any]) -> None:
    print(f"community {result['slug']} created: {result['name']}")
    print(f"  did        {result['did']}")
    print(f"  join mode  {result['policy']['join_mode']}")


def _print_listing(result: dict[str, Any]) -> None:
    rows = [("SLUG", "NAME", "ACTIVE", "PENDING", "OTHER", "CREATED", "LAST CHANGE", "")]
    for c in result["communities"]:
        counts = dict(c["members"])
        active = counts.pop("active", 0) + counts.pop("in_grace", 0)
        pending = counts.pop("applied", 0) + counts.pop("invited", 0)
        rows.append(
            (
                c["slug"],
                c["name"],
                str(active),
                str(pending),
                str(sum(counts.values())),
                c["created_at"][:10],
                c["last_change_at"][:16].replace("T", " "),
                f"archived {c['archived_at'][:10]}" if c["archived_at"] else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(f"{result['count']} communit{'y' if result['count'] == 1 else 'ies'}")


def _print_report(result: dict[str, Any]) -> None:
    for row in result["rows"]:
        reasons = f": {'; '.join(row['reasons'])}" if row["reasons"] else ""
        code = f"  invitation code {row['code']}" if row.get("code") else ""
        print(f"row {row['row']:>4}  {row['status']:<14} {row['key']}{reasons}{code}")
    mode = "dry run, nothing recorded" if result["dry_run"] else f"{result['imported']} imported"
    print(
        f"{result['valid']} valid, {result['invalid']} invalid, {result['already_members']} already members"
        f" ({mode})"
    )
