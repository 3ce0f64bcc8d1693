"""`cos export COMMUNITY --out FILE`: write a community's self-contained bundle (docs/formats/bundle.md);
`cos log …`: fetch and verify checkpoints and proofs of a community's transparency log."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import nats.errors

from shared.bundle import BundleError, ExportSummary, export_community
from shared.commands import CommandClient, CommandRejected, CommandUnavailable
from shared.natsclient import connect
from shared.subjects import InvalidSubject
from shared.transparency.checkpoint import CheckpointError, NoteVerifier, parse_signed_checkpoint
from shared.transparency.layout import COMMANDS
from shared.transparency.merkle import ProofError, verify_consistency, verify_inclusion

__all__ = ["cli_connect", "register"]

DEFAULT_NATS = "nats://127.0.0.1:4222"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "export",
        help="write a community's bundle: all its commits, checkpoints, DID log and status lists",
        description="Export COMMUNITY from the deployment at $NATS_URL into one bundle file "
        "(documented in docs/formats/bundle.md; check it with `cos audit verify FILE`).",
    )
    parser.add_argument("community", metavar="COMMUNITY")
    parser.add_argument("--out", type=Path, metavar="FILE", help="the bundle file (default: standard output)")
    parser.add_argument("--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS), help="($NATS_URL)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=_handle)
    register_log(subparsers)


async def _quiet(_: Exception) -> None:
    """Connection errors are reported once, by the command."""


async def cli_connect(url: str, name: str) -> Any:
    return await connect(
        url,
        name=name,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        connect_timeout=3,
        allow_reconnect=False,
        error_cb=_quiet,
    )


async def _export(url: str, community: str, out: Path) -> ExportSummary:
    nc = await cli_connect(url, "cos-export")
    try:
        return await export_community(nc, community, out)
    finally:
        await nc.close()


def _handle(args: argparse.Namespace) -> int:
    to_stdout = args.out is None
    with tempfile.TemporaryDirectory(prefix="cos-export-") as tmp:
        out: Path = args.out or Path(tmp) / "bundle.jsonl"
        try:
            summary = asyncio.run(_export(args.nats_url, args.community, out))
        except (BundleError, InvalidSubject) as exc:
            print(f"cos export: {exc}", file=sys.stderr)
            return 1
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            print(f"cos export: no Community OS platform answers at {args.nats_url} ({exc})", file=sys.stderr)
            return 3
        if to_stdout:
            with out.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
    report = sys.stderr if to_stdout else sys.stdout
    if args.json:
        print(json.dumps(summary.as_json()), file=report)
    else:
        counts = ", ".join(f"{s} {n}" for s, n in summary.commits.items()) or "none"
        print(
            f"exported {summary.community}: commits {counts}; {summary.checkpoints} checkpoints, "
            f"{summary.did_logs} DID log, {summary.status_lists} status lists"
            + ("" if to_stdout else f" -> {summary.path} ({summary.bytes} bytes)"),
            file=report,
        )
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


# -- `cos log`: the transparency log of a running deployment ------------------------------------
# (registered here with `cos export`, which it serves: check what an export will be cut at)


def register_log(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "log",
        help="a community's transparency log: checkpoints, inclusion and consistency proofs (verified)",
        description="Fetch from the deployment at $NATS_URL and verify locally: the checkpoint's signature, "
        "and each proof against the signed root. Prints JSON; exit 0 only when it verifies.",
    )
    actions = parser.add_subparsers(dest="log_action", required=True, metavar="ACTION")
    for name, text in (
        ("checkpoint", "the newest signed checkpoint of COMMUNITY's log of STREAM"),
        ("inclusion", "an inclusion proof of one commit in the newest checkpoint"),
        ("consistency", "a consistency proof between two tree sizes"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("community", metavar="COMMUNITY")
        action.add_argument("stream", metavar="STREAM", help="identity, membership, governance, …")
        action.add_argument(
            "--nats-url", default=os.environ.get("NATS_URL", DEFAULT_NATS), help="($NATS_URL)"
        )
        if name == "inclusion":
            which = action.add_mutually_exclusive_group(required=True)
            which.add_argument("--position", type=int)
            which.add_argument("--sequence", type=int)
            which.add_argument("--commit-id")
        if name == "consistency":
            action.add_argument("--old-size", type=int, required=True)
            action.add_argument("--new-size", type=int)
        action.set_defaults(handler=_log)


async def _log_request(url: str, command: str, payload: dict[str, Any]) -> Any:
    nc = await cli_connect(url, "cos-log")
    try:
        return await CommandClient(nc, timeout=30).call(COMMANDS, command, payload)
    finally:
        await nc.close()


def _log(args: argparse.Namespace) -> int:
    payload: dict[str, Any] = {"community": args.community, "stream": args.stream.upper()}
    command = {"checkpoint": "latest"}.get(args.log_action, args.log_action)
    if args.log_action == "inclusion":
        chosen = {"position": args.position, "sequence": args.sequence, "commit_id": args.commit_id}
        payload.update({k: v for k, v in chosen.items() if v is not None})
    if args.log_action == "consistency":
        payload["old_size"] = args.old_size
        if args.new_size is not None:
            payload["new_size"] = args.new_size
    try:
        result = asyncio.run(_log_request(args.nats_url, command, payload))
    except CommandRejected as exc:
        print(f"cos log: refused ({exc.type}): {exc.message}", file=sys.stderr)
        return 1
    except (CommandUnavailable, OSError, TimeoutError, nats.errors.Error) as exc:
        print(f"cos log: no transparency service answers at {args.nats_url} ({exc})", file=sys.stderr)
        return 3
    try:
        result["verified"] = _verify_answer(args.log_action, result)
    except (CheckpointError, ProofError) as exc:
        result["verified"] = False
        result["error"] = str(exc)
    print(json.dumps(result, indent=2))
    return 0 if result["verified"] else 1


def _verify_answer(action: str, result: dict[str, Any]) -> bool:
    """Check the answer locally: the note's signature, and the proof against the signed root."""
    b64 = base64.b64decode
    note = result.get("note") or result.get("checkpoint")
    if note is None:
        raise CheckpointError("no checkpoint of that size was published to check the proof against")
    signed = parse_signed_checkpoint(note)
    signed.verify(NoteVerifier.parse(result["key"]))
    root = signed.checkpoint.root
    if action == "inclusion":
        proof = [b64(p) for p in result["proof"]]
        verify_inclusion(result["position"], result["size"], b64(result["leaf_hash"]), proof, root)
    elif action == "consistency":
        proof = [b64(p) for p in result["proof"]]
        verify_consistency(result["old_size"], result["new_size"], b64(result["old_root"]), root, proof)
    return True
