"""Reads from a stream with JetStream Direct Get: single messages and server-side batches."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from shared.jetstream.errors import JetStreamError, StreamNotFound
from shared.natsclient import Client as FastClient
from shared.natsclient import parse_headers
from shared.telemetry import trace_headers

__all__ = ["RawMessage", "StreamReader"]

MAX_BATCH = 1000


@dataclass(frozen=True)
class RawMessage:
    seq: int
    subject: str
    data: bytes
    msg_id: str | None
    trace: dict[str, str] = field(default_factory=dict)
    """The W3C trace context stored with the message (`traceparent`, `tracestate`), if any."""


_NO_STATUS = b"NATS/1.0\r\n"
"""How a header block without an inline status (a stored message, not a batch's end) begins."""


def _last_value(raw_headers: bytes, name: bytes) -> bytes | None:
    """The value of the last `name` line (given as b"\\r\\n<Name>:") of a raw header block.

    The last one, as the parsed dict keeps: the server appends its own Nats-Sequence and
    Nats-Subject after whatever headers the stored message carries, however those are named.
    """
    start = raw_headers.rfind(name)
    if start < 0:
        return None
    start += len(name)
    end = raw_headers.find(b"\r\n", start)
    return raw_headers[start:end].strip() if end >= 0 else None


def _raw(msg: Msg) -> RawMessage:
    return _raw_from(msg.headers or {}, msg.data)


def _raw_from(headers: dict[str, str], data: bytes) -> RawMessage:
    return RawMessage(
        seq=int(headers["Nats-Sequence"]),
        subject=headers["Nats-Subject"],
        data=data,
        msg_id=headers.get("Nats-Msg-Id"),
        trace=trace_headers(headers),
    )


class StreamReader:
    """Direct Get reads of one stream.

    `min_last_seq` asks the answering server to have stored at least that sequence, so a read
    after our own write is never served by a lagging follower in a cluster.
    """

    def __init__(self, nc: NATS, stream: str, timeout: float = 10.0) -> None:
        self._nc = nc
        self._subject = f"$JS.API.DIRECT.GET.{stream}"
        self._timeout = timeout

    async def last(self, subject: str, min_last_seq: int = 0) -> RawMessage | None:
        """The newest message on `subject` (wildcards allowed), or None."""
        request: dict[str, Any] = {"last_by_subj": subject}
        if min_last_seq:
            request["min_last_seq"] = min_last_seq
        try:
            msg = await self._nc.request(self._subject, json.dumps(request).encode(), timeout=self._timeout)
        except nats.errors.NoRespondersError as exc:
            raise StreamNotFound(f"no server answers direct gets on {self._subject}") from exc
        except (TimeoutError, nats.errors.Error) as exc:
            raise JetStreamError(f"direct get of {subject} failed: {exc!r}") from exc
        status = (msg.headers or {}).get("Status")
        if status == "404":
            return None
        if status == "503":
            raise StreamNotFound(self._subject)
        if status:
            raise JetStreamError(f"direct get of {subject} answered {status}")
        return _raw(msg)

    async def batch(
        self,
        start_seq: int,
        subject: str | None = None,
        batch: int = MAX_BATCH,
        min_last_seq: int = 0,
    ) -> tuple[list[RawMessage], int]:
        """Up to `batch` messages from `start_seq` on (matching `subject`), and how many remain."""
        out: list[RawMessage] = []

        def take_direct(raw_headers: bytes, data: bytes) -> None:
            out.append(_raw_from(parse_headers(raw_headers)[1], data))

        def take(headers: dict[str, str], data: bytes) -> None:
            out.append(_raw_from(headers, data))

        pending = await self._get_batch(start_seq, subject, batch, min_last_seq, take_direct, take)
        return out, pending

    async def sequenced(
        self, start_seq: int, subject: str | None = None, batch: int = MAX_BATCH
    ) -> tuple[list[tuple[int, str, bytes]], int]:
        """`batch` reduced to (stream sequence, subject, payload) of each message: what a replay
        needs. On the project's client only those two headers are looked up in each header block,
        instead of parsing all eight or so into a dict (measured as most of replay's fetch side)."""
        out: list[tuple[int, str, bytes]] = []

        def take_direct(raw_headers: bytes, data: bytes) -> None:
            seq = _last_value(raw_headers, b"\r\nNats-Sequence:")
            subject = _last_value(raw_headers, b"\r\nNats-Subject:")
            if seq is None or subject is None:  # not the server's usual block: the full parser
                take(parse_headers(raw_headers)[1], data)
            else:
                out.append((int(seq), subject.decode(), data))

        def take(headers: dict[str, str], data: bytes) -> None:
            out.append((int(headers["Nats-Sequence"]), headers["Nats-Subject"], data))

        pending = await self._get_batch(start_seq, subject, batch, 0, take_direct, take)
        return out, pending

    async def _get_batch(
        self,
        start_seq: int,
        subject: str | None,
        batch: int,
        min_last_seq: int,
        take_direct: Callable[[bytes, bytes], None],
        take: Callable[[dict[str, str], bytes], None],
    ) -> int:
        """Send one batched Direct Get and hand every stored message it answers to `take_direct`
        (its raw header block, on the project's client) or `take` (its parsed headers); return the
        pending count of the end-of-batch status."""
        request: dict[str, Any] = {"seq": max(start_seq, 1), "batch": min(batch, MAX_BATCH)}
        if subject:
            request["next_by_subj"] = subject
        if min_last_seq:
            request["min_last_seq"] = min_last_seq
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()

        def settle(status: str, headers: dict[str, str]) -> None:
            if status == "204":
                done.set_result(int(headers.get("Nats-Num-Pending", 0)))
            elif status == "404":
                done.set_result(0)
            elif status == "503":
                done.set_exception(StreamNotFound(self._subject))
            else:
                done.set_exception(JetStreamError(f"direct batch get answered {status}"))

        def on_direct(subject: bytes, raw_headers: bytes | None, data: bytes) -> None:
            # One call per message, no task or timeout per message: the batch ends on the
            # server's end-of-batch status, which settles `done` with the pending count.
            if done.done():
                return
            if raw_headers is not None and raw_headers.startswith(_NO_STATUS):
                take_direct(raw_headers, data)
                return
            status, headers = parse_headers(raw_headers)
            if status is None:
                take(headers, data)
            else:
                settle(status, headers)

        async def collect(msg: Msg) -> None:
            if done.done():
                return
            headers = msg.headers or {}
            status = headers.get("Status")
            if status is None:
                take(headers, msg.data)
            else:
                settle(status, headers)

        inbox = self._nc.new_inbox()
        fast = self._nc if isinstance(self._nc, FastClient) else None
        try:
            if fast is not None:
                sub = await fast.subscribe_direct(inbox, on_direct)
            else:
                sub = await self._nc.subscribe(inbox, cb=collect)
        except nats.errors.Error as exc:
            raise JetStreamError(f"direct batch get failed: {exc!r}") from exc
        try:
            try:
                await self._nc.publish(self._subject, json.dumps(request).encode(), reply=inbox)
            except nats.errors.Error as exc:
                raise JetStreamError(f"direct batch get failed: {exc!r}") from exc
            try:
                async with asyncio.timeout(self._timeout):
                    return await done
            except TimeoutError as exc:
                raise JetStreamError(f"direct batch get from {start_seq} timed out") from exc
        finally:
            with contextlib.suppress(Exception):
                if fast is not None:
                    await fast.unsubscribe_direct(sub)
                else:
                    await sub.unsubscribe()

    async def scan(
        self, start_seq: int, subject: str | None = None, stop_seq: int | None = None
    ) -> AsyncIterator[list[RawMessage]]:
        """Pages of messages from `start_seq` to the end (or `stop_seq`), in stream order."""
        seq = start_seq
        while True:
            page, pending = await self.batch(seq, subject)
            if stop_seq is not None:
                page = [m for m in page if m.seq <= stop_seq]
            if page:
                yield page
                seq = page[-1].seq + 1
            if not page or pending == 0 or (stop_seq is not None and seq > stop_seq):
                return
