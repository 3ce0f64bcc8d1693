"""Reads from a stream with JetStream Direct Get: single messages and server-side batches."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
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
        request: dict[str, Any] = {"seq": max(start_seq, 1), "batch": min(batch, MAX_BATCH)}
        if subject:
            request["next_by_subj"] = subject
        if min_last_seq:
            request["min_last_seq"] = min_last_seq
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        out: list[RawMessage] = []

        def take(status: str | None, headers: dict[str, str], data: bytes) -> None:
            # One call per message, no task or timeout per message: the batch ends on the
            # server's end-of-batch status, which settles `done` with the pending count.
            if done.done():
                return
            if status is None:
                out.append(_raw_from(headers, data))
            elif status == "204":
                done.set_result(int(headers.get("Nats-Num-Pending", 0)))
            elif status == "404":
                done.set_result(0)
            elif status == "503":
                done.set_exception(StreamNotFound(self._subject))
            else:
                done.set_exception(JetStreamError(f"direct batch get answered {status}"))

        def take_direct(subject: bytes, raw_headers: bytes | None, data: bytes) -> None:
            status, headers = parse_headers(raw_headers)
            take(status, headers, data)

        async def collect(msg: Msg) -> None:
            headers = msg.headers or {}
            take(headers.get("Status"), headers, msg.data)

        inbox = self._nc.new_inbox()
        fast = self._nc if isinstance(self._nc, FastClient) else None
        try:
            if fast is not None:
                sub = await fast.subscribe_direct(inbox, take_direct)
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
                    pending = await done
            except TimeoutError as exc:
                raise JetStreamError(f"direct batch get from {start_seq} timed out") from exc
            return out, pending
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
