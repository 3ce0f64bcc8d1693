"""Idempotent provisioning of one JetStream stream per service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import nats.errors
from nats.aio.client import Client as NATS

from shared.jetstream.errors import JetStreamAPIError, JetStreamError, ServerTooOld
from shared.subjects import StreamSubjects

__all__ = [
    "MIN_SERVER_VERSION",
    "StreamSettings",
    "ensure_stream",
    "jetstream_api",
    "require_server",
    "stream_info",
]

# Batched Direct Get (reads, replay) arrived in nats-server 2.11, atomic batch publish (a commit
# over several aggregates, `allow_atomic`) in 2.12.
MIN_SERVER_VERSION = (2, 12)

STREAM_NAME_IN_USE = 10058
STREAM_NOT_FOUND = 10059


@dataclass(frozen=True)
class StreamSettings:
    """How a service's stream is configured: file storage, dedupe window, replicas."""

    subjects: StreamSubjects
    replicas: int = 1
    duplicate_window_s: float = 120.0
    max_msg_size: int = -1

    def config(self) -> dict[str, Any]:
        return {
            "name": self.subjects.stream,
            "subjects": self.subjects.stored,
            "retention": "limits",
            "storage": "file",
            "discard": "old",
            "num_replicas": self.replicas,
            "duplicate_window": int(self.duplicate_window_s * 1e9),
            "max_msg_size": self.max_msg_size,
            "allow_direct": True,
            "allow_atomic": True,
            "deny_delete": True,
            "deny_purge": False,
        }


async def jetstream_api(
    nc: NATS, subject: str, payload: dict[str, Any] | None, within: float = 10.0
) -> dict[str, Any]:
    """One JetStream API request (`$JS.API...`): its JSON answer, or a typed error naming the cause."""
    body = json.dumps(payload).encode() if payload is not None else b""
    try:
        msg = await nc.request(subject, body, timeout=within)
    except (TimeoutError, nats.errors.Error) as exc:
        raise JetStreamError(f"JetStream API {subject} did not answer: {exc!r}") from exc
    reply: dict[str, Any] = json.loads(msg.data)
    if error := reply.get("error"):
        raise JetStreamAPIError(
            int(error.get("code", 0)), int(error.get("err_code", 0)), str(error["description"])
        )
    return reply


async def stream_info(nc: NATS, stream: str, within: float = 10.0) -> dict[str, Any]:
    return await jetstream_api(nc, f"$JS.API.STREAM.INFO.{stream}", None, within)


def require_server(nc: NATS) -> str:
    """The connected nats-server's version, or ServerTooOld when it is older than MIN_SERVER_VERSION."""
    server = nc.connected_server_version
    try:
        found = (server.major, server.minor)
        version = f"{server.major}.{server.minor}.{server.patch}"
    except (TypeError, ValueError):  # nats-py could not parse what the server announced
        found, version = (0, 0), "(unparseable version)"
    if found < MIN_SERVER_VERSION:
        minimum = ".".join(map(str, MIN_SERVER_VERSION))
        raise ServerTooOld(
            f"nats-server {version} is older than {minimum}, the oldest the event store supports "
            "(it needs batched Direct Get and atomic batch publish)"
        )
    return version


async def ensure_stream(nc: NATS, settings: StreamSettings) -> dict[str, Any]:
    """Create the stream, or bring an existing one to `settings`; safe to call from every process.

    Refuses (ServerTooOld) a server that could store the stream but not serve the event store."""
    require_server(nc)
    config = settings.config()
    name = settings.subjects.stream
    try:
        return await jetstream_api(nc, f"$JS.API.STREAM.CREATE.{name}", config)
    except JetStreamAPIError as exc:
        if exc.err_code != STREAM_NAME_IN_USE:
            raise
    current = (await stream_info(nc, name))["config"]
    if all(current.get(k) == v for k, v in config.items()):
        return {"config": current}
    return await jetstream_api(nc, f"$JS.API.STREAM.UPDATE.{name}", {**current, **config})
