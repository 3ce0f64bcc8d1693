"""The project's NATS client: nats-py's, with a faster header parser on the read hot path, direct
reply handlers and pre-encoded publishing for the append hot path."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from nats import errors as nats_errors
from nats.aio.client import Client as _NatsPyClient
from nats.aio.subscription import Subscription

__all__ = ["Client", "DirectHandler", "Frame", "connect", "encode_headers", "parse_headers"]

DirectHandler = Callable[[bytes, bytes | None, bytes], None]
"""Called on the event loop with (subject, raw header block or None, payload) of each message."""

Frame = tuple[str, str, bytes, bytes]
"""One message to publish: (subject, reply subject, encoded header block from `encode_headers`, payload)."""


def encode_headers(headers: dict[str, str]) -> bytes:
    """The NATS header block of `headers`, as HPUB sends it (names and values must be one-line ASCII
    tokens without ':' in names; the callers build them from known names and numbers)."""
    parts = ["NATS/1.0\r\n"]
    for name, value in headers.items():
        if not name or ":" in name or "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise nats_errors.BadHeaderError(name)
        parts.append(f"{name}: {value}\r\n")
    parts.append("\r\n")
    return "".join(parts).encode()


_CRLF = b"\r\n"
_WHITESPACE = re.compile(rb"[ \t\x0b\x0c]")


def parse_headers(raw: bytes | None) -> tuple[str | None, dict[str, str]]:
    """(inline status such as "404", or None; headers) of a raw NATS header block."""
    if not raw:
        return None, {}
    first, _, rest = raw.partition(_CRLF)
    status = None
    if first.startswith(b"NATS/1.0 "):
        code = first[9:12]
        if code.isdigit():
            status = code.decode("ascii")
    return status, Client._parse_header_lines(rest)


class Client(_NatsPyClient):
    """nats-py's client with `_parse_header_lines` rewritten without a per-character loop.

    Every stored commit comes back with its headers, and nats-py checks each header name for
    whitespace one character at a time in a generator: measured as the largest cost of replay.
    Same result (names with whitespace or non-ASCII bytes are skipped), found by byte search.

    Two additions for the append hot path, measured in docs/decisions/0004:
    `subscribe_direct` hands a subscription's messages straight to a plain function on the read
    loop (no Msg object, no header dict, no queue and task hop per message), and `publish_frames`
    queues several messages whose header blocks were encoded once, with one flush.
    """

    def __init__(self) -> None:
        super().__init__()
        self._direct_handlers: dict[int, DirectHandler] = {}

    async def subscribe_direct(self, subject: str, handler: DirectHandler) -> Subscription:
        """Subscribe with `handler` called synchronously for every message (keep it short)."""
        sub = await self.subscribe(subject)
        self._direct_handlers[sub._id] = handler
        return sub

    async def unsubscribe_direct(self, sub: Subscription) -> None:
        self._direct_handlers.pop(sub._id, None)
        await sub.unsubscribe()

    async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        handler = self._direct_handlers.get(sid)
        if handler is None:
            await super()._process_msg(sid, subject, reply, data, headers)
            return
        self.stats["in_msgs"] += 1
        self.stats["in_bytes"] += len(data)
        handler(subject, headers or None, data)

    async def publish_frames(self, frames: Sequence[Frame]) -> None:
        """Publish pre-encoded messages in order, queued together and flushed once.

        Subjects are not validated here (the callers build them from checked tokens); the payload
        limit, a closed or draining connection and a full reconnect buffer raise as `publish` does.
        """
        if self.is_closed:
            raise nats_errors.ConnectionClosedError
        if self.is_draining_pubs:
            raise nats_errors.ConnectionDrainingError
        size = 0
        commands = []
        for subject, reply, header, payload in frames:
            if not subject:
                raise nats_errors.BadSubjectError
            if len(payload) > self._max_payload:
                raise nats_errors.MaxPayloadError
            hlen = len(header)
            commands.append(
                b"".join(
                    (
                        f"HPUB {subject} {reply} {hlen} {hlen + len(payload)}\r\n".encode(),
                        header,
                        payload,
                        b"\r\n",
                    )
                )
            )
            size += len(payload)
        if not self.is_connected and (
            self._max_pending_size <= 0 or size + self._pending_data_size > self._max_pending_size
        ):
            raise nats_errors.OutboundBufferLimitError
        self.stats["out_msgs"] += len(commands)
        self.stats["out_bytes"] += size
        for command in commands:
            # nats-py's `_send_command`, without a coroutine per message.
            self._pending.append(command)
            self._pending_data_size += len(command)
            if self._max_pending_size > 0 and self._pending_data_size > self._max_pending_size:
                await self._flush_pending(force_flush=True)
        if self._flush_queue is not None and self._flush_queue.empty():
            await self._flush_pending()

    @staticmethod
    def _parse_header_lines(raw: bytes) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in raw.split(_CRLF):
            name, sep, value = line.partition(b":")
            if not sep:
                continue
            name = name.strip()
            if not name.isascii() or _WHITESPACE.search(name):
                continue
            out[name.decode("ascii")] = value.strip().decode("utf-8", "replace")
        return out


async def connect(servers: str | list[str], **options: Any) -> Client:
    """Connect to NATS (`servers` may be comma-separated), reconnecting forever by default."""
    urls = servers.split(",") if isinstance(servers, str) else servers
    options.setdefault("max_reconnect_attempts", -1)
    options.setdefault("reconnect_time_wait", 0.25)
    client = Client()
    await client.connect(servers=urls, **options)
    return client


async def settled(nc: _NatsPyClient) -> None:
    """Return once the server has processed everything sent so far, subscriptions included.

    nats-py's `flush()` writes its PING straight to the socket, ahead of commands still queued for
    its flusher task (a SUB just made is one), so that PONG alone does not prove the server has them.
    By the time it comes back the flusher has written the queue; a second round trip, sent after
    it, does prove it (`tests/integration/test_nats_client.py`)."""
    await nc.flush()
    await nc.flush()
