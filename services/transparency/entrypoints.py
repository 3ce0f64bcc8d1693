"""NATS commands of the transparency service (`transparency.cmd.<name>`): checkpoints and proofs."""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from services.transparency.checkpointer import Checkpointer, Published
from services.transparency.logs import CommunityLog
from shared.commands import CommandContext, CommandRejected, CommandRouter
from shared.subjects import InvalidSubject, check_token
from shared.transparency.layout import COMMANDS


class CommunityRequest(msgspec.Struct, forbid_unknown_fields=True):
    community: str


class LogRequest(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    stream: str


class InclusionRequest(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    stream: str | None = None  # required with position or sequence; found from commit_id otherwise
    position: int | None = None
    sequence: int | None = None
    commit_id: str | None = None
    size: int | None = None  # default: the newest checkpoint's size


class ConsistencyRequest(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    stream: str
    old_size: int
    new_size: int | None = None  # default: the newest checkpoint's size


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _published(p: Published | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"size": p.size, "root": _b64(p.root), "note": p.note}


def build_router(checkpointer: Checkpointer) -> CommandRouter:
    router = CommandRouter(COMMANDS)

    def community_of(name: str) -> str:
        try:
            return check_token(name, "community")
        except InvalidSubject as exc:
            raise CommandRejected("invalid_community", str(exc)) from exc

    def stream_of(name: str) -> str:
        stream = name.upper()
        if stream not in checkpointer.streams:
            raise CommandRejected("invalid_stream", f"stream is one of {', '.join(checkpointer.streams)}")
        return stream

    def log_of(community: str, stream: str) -> CommunityLog:
        entry = checkpointer.logs.get(community_of(community), stream_of(stream))
        if entry is None or entry.size == 0:
            raise CommandRejected("not_found", f"{community} has no commits in {stream}", 404)
        return entry

    async def checkpointed_size(entry: CommunityLog, size: int | None) -> tuple[int, str | None]:
        latest = await checkpointer.latest(entry)
        if size is None:
            if latest is None:
                raise CommandRejected(
                    "not_found", f"no checkpoint of {entry.community}/{entry.stream} yet", 404
                )
            return latest.size, latest.note
        if not 0 < size <= entry.size:
            raise CommandRejected("invalid_size", f"tree size must be within 1..{entry.size}")
        return size, latest.note if latest is not None and latest.size == size else None

    @router.command("checkpoint", CommunityRequest)
    async def checkpoint(request: CommunityRequest, _: CommandContext) -> Any:
        community = community_of(request.community)
        latest = await checkpointer.checkpoint_now(community)
        return {
            "deployment": checkpointer.deployment,
            "key": checkpointer.verifier,
            "streams": {stream: _published(p) for stream, p in latest.items() if p is not None},
        }

    @router.command("latest", LogRequest)
    async def latest(request: LogRequest, _: CommandContext) -> Any:
        entry = log_of(request.community, request.stream)
        found = await checkpointer.latest(entry)
        if found is None:
            raise CommandRejected("not_found", f"no checkpoint of {entry.community}/{entry.stream} yet", 404)
        return {**(_published(found) or {}), "key": checkpointer.verifier}

    @router.command("inclusion", InclusionRequest)
    async def inclusion(request: InclusionRequest, _: CommandContext) -> Any:
        community = community_of(request.community)
        entry: CommunityLog | None = None
        position = request.position
        if request.commit_id is not None:
            streams = [stream_of(request.stream)] if request.stream else list(checkpointer.streams)
            for stream in streams:
                candidate = checkpointer.logs.get(community, stream)
                if candidate is not None and request.commit_id in candidate.commit_ids:
                    entry, position = candidate, candidate.commit_ids[request.commit_id]
                    break
            if entry is None:
                raise CommandRejected(
                    "not_found", f"no commit {request.commit_id} in {community}'s logs", 404
                )
        else:
            if request.stream is None:
                raise CommandRejected(
                    "invalid_request", "give commit_id, or stream with position or sequence"
                )
            entry = log_of(community, request.stream)
            if request.sequence is not None:
                position = entry.position_of_sequence(request.sequence)
                if position is None:
                    raise CommandRejected(
                        "not_found", f"stream sequence {request.sequence} is not a commit of {community}", 404
                    )
        if position is None:
            raise CommandRejected("invalid_request", "give commit_id, position or sequence")
        size, note = await checkpointed_size(entry, request.size)
        if not 0 <= position < size:
            raise CommandRejected(
                "not_yet_checkpointed",
                f"position {position} is not in the checkpointed tree of size {size}",
                409,
            )
        return {
            "community": community,
            "stream": entry.stream,
            "position": position,
            "sequence": entry.sequences[position],
            "size": size,
            "leaf_hash": _b64(entry.tree.leaf(position)),
            "root": _b64(entry.tree.root(size)),
            "proof": [_b64(h) for h in entry.tree.inclusion_proof(position, size)],
            "checkpoint": note,
            "key": checkpointer.verifier,
        }

    @router.command("consistency", ConsistencyRequest)
    async def consistency(request: ConsistencyRequest, _: CommandContext) -> Any:
        entry = log_of(request.community, request.stream)
        new_size, note = await checkpointed_size(entry, request.new_size)
        if not 0 < request.old_size <= new_size:
            raise CommandRejected("invalid_size", f"old_size must be within 1..{new_size}")
        return {
            "community": entry.community,
            "stream": entry.stream,
            "old_size": request.old_size,
            "new_size": new_size,
            "old_root": _b64(entry.tree.root(request.old_size)),
            "new_root": _b64(entry.tree.root(new_size)),
            "proof": [_b64(h) for h in entry.tree.consistency_proof(request.old_size, new_size)],
            "checkpoint": note,
            "key": checkpointer.verifier,
        }

    @router.command("status", CommunityRequest)
    async def status(request: CommunityRequest, _: CommandContext) -> Any:
        community = community_of(request.community)
        return {
            "deployment": checkpointer.deployment,
            "key": checkpointer.verifier,
            "logs": {
                e.stream: {
                    "size": e.size,
                    "checkpointed": e.last_checkpoint.size if e.last_checkpoint else 0,
                    "alarm": e.alarm,
                }
                for e in checkpointer.logs.of_community(community)
            },
        }

    return router
