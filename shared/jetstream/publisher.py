"""Pipelined JetStream publishing with acknowledgements mapped to typed results or errors.

nats-py's `publish_async` leaves a future unresolved when JetStream rejects an expected-sequence
header, so a conflict would look like a timeout. This publisher owns its reply inbox instead:
every acknowledgement or error object resolves exactly the future of the message it answers.

On the project's own client (`shared.natsclient.Client`) acknowledgements are handled directly on
the read loop and messages are queued pre-encoded (docs/decisions/0004); any other nats-py client
takes the ordinary `subscribe`/`publish` path with the same results.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from shared.jetstream.errors import (
    JetStreamAPIError,
    JetStreamError,
    PublishTimeout,
    StreamNotFound,
)
from shared.natsclient import Client as FastClient
from shared.natsclient import encode_headers

__all__ = ["OutgoingMessage", "PubAck", "Publisher"]


class _ApiError(msgspec.Struct):
    code: int = 0
    err_code: int = 0
    description: str = ""


class _AckReply(msgspec.Struct):
    stream: str = ""
    seq: int = 0
    duplicate: bool = False
    count: int = 0
    error: _ApiError | None = None


_ack_decoder = msgspec.json.Decoder(_AckReply)


@dataclass(frozen=True)
class PubAck:
    stream: str
    seq: int
    duplicate: bool = False
    batch_count: int = 0


@dataclass(frozen=True)
class OutgoingMessage:
    subject: str
    data: bytes
    headers: dict[str, str]


class Publisher:
    """Publishes to JetStream with many messages in flight on one connection."""

    def __init__(self, nc: NATS, timeout: float = 10.0) -> None:
        self._nc = nc
        self._timeout = timeout
        self._prefix = nc.new_inbox()
        self._reply_prefix = self._prefix + "."
        self._futures: dict[str, asyncio.Future[PubAck]] = {}
        self._deadlines: dict[str, float] = {}
        self._tokens = itertools.count(1)
        self._sub: Subscription | None = None
        self._fast = nc if isinstance(nc, FastClient) else None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        if self._sub is None:
            try:
                if self._fast is not None:
                    self._sub = await self._fast.subscribe_direct(self._prefix + ".*", self._on_direct)
                else:
                    self._sub = await self._nc.subscribe(self._prefix + ".*", cb=self._on_reply)
            except nats.errors.Error as exc:
                raise JetStreamError(f"could not subscribe for acknowledgements: {exc!r}") from exc

    async def _sweep(self) -> None:
        """Fail futures whose acknowledgement is overdue: one timer for all messages in flight,
        instead of a timer per message on the hot path."""
        loop = asyncio.get_running_loop()
        interval = min(0.25, self._timeout / 4)
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            overdue = [token for token, deadline in self._deadlines.items() if deadline <= now]
            for token in overdue:
                self._deadlines.pop(token, None)
                fut = self._futures.pop(token, None)
                if fut is not None and not fut.done():
                    fut.set_exception(
                        PublishTimeout(f"no acknowledgement in {self._timeout}s (may be stored)")
                    )

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._sub is not None:
            sub, self._sub = self._sub, None
            if self._fast is not None:
                await self._fast.unsubscribe_direct(sub)
            else:
                await sub.unsubscribe()
        for fut in self._futures.values():
            if not fut.done():
                fut.set_exception(JetStreamError("publisher closed"))
        self._futures.clear()

    async def _on_reply(self, msg: Msg) -> None:
        fut = self._futures.get(msg.subject.rsplit(".", 1)[-1])
        if fut is not None and not fut.done():
            self._settle(fut, (msg.headers or {}).get("Status") == "503", msg.subject, msg.data)

    def _on_direct(self, subject: bytes, headers: bytes | None, data: bytes) -> None:
        # The subscription is `<prefix>.*`, so the token is what follows the prefix and its dot.
        fut = self._futures.get(subject[len(self._reply_prefix) :].decode())
        if fut is not None and not fut.done():
            unavailable = headers is not None and headers.startswith(b"NATS/1.0 503")
            self._settle(fut, unavailable, subject, data)

    @staticmethod
    def _settle(fut: asyncio.Future[PubAck], unavailable: bool, subject: str | bytes, data: bytes) -> None:
        if unavailable:
            if isinstance(subject, bytes):  # decoded only for the message, not for every ack
                subject = subject.decode()
            fut.set_exception(StreamNotFound(f"no stream answers {subject}"))
            return
        if not data:
            return  # an intermediate batch reply; the commit message's reply settles it
        try:
            reply = _ack_decoder.decode(data)
        except msgspec.DecodeError:
            fut.set_exception(JetStreamError(f"unreadable acknowledgement {data[:80]!r}"))
            return
        if reply.error is not None:
            fut.set_exception(
                JetStreamAPIError(reply.error.code, reply.error.err_code, reply.error.description)
            )
            return
        fut.set_result(PubAck(reply.stream, reply.seq, reply.duplicate, reply.count))

    def _register(self) -> tuple[str, asyncio.Future[PubAck]]:
        token = str(next(self._tokens))
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[PubAck] = loop.create_future()
        self._futures[token] = fut
        self._deadlines[token] = loop.time() + self._timeout
        return token, fut

    async def _await(self, token: str, fut: asyncio.Future[PubAck], what: str) -> PubAck:
        try:
            return await fut
        except PublishTimeout as exc:
            raise PublishTimeout(f"no acknowledgement for {what} in {self._timeout}s") from exc
        finally:
            self._futures.pop(token, None)
            self._deadlines.pop(token, None)

    async def publish(self, message: OutgoingMessage) -> PubAck:
        """Publish one message and wait for its acknowledgement."""
        return await self.send(message.subject, message.data, message.headers)

    async def send(self, subject: str, data: bytes, headers: dict[str, str]) -> PubAck:
        """`publish` of one message given by its parts (the event store's hot path: one coroutine,
        no message object)."""
        if self._sub is None or self._sweeper is None:
            await self.start()
        token, fut = self._register()
        reply = self._reply_prefix + token
        try:
            if self._fast is not None:
                await self._fast.publish_frames(((subject, reply, encode_headers(headers), data),))
            else:
                await self._nc.publish(subject, data, reply=reply, headers=headers)
        except nats.errors.Error as exc:
            self._futures.pop(token, None)
            self._deadlines.pop(token, None)
            raise JetStreamError(f"could not publish to {subject}: {exc!r}") from exc
        return await self._await(token, fut, subject)

    async def publish_batch(self, messages: Sequence[OutgoingMessage]) -> PubAck:
        """Publish messages as one JetStream atomic batch: all are stored, or none."""
        if len(messages) == 1:
            return await self.publish(messages[0])
        if self._sub is None or self._sweeper is None:
            await self.start()
        batch_id = uuid.uuid4().hex
        token, fut = self._register()
        last = len(messages) - 1
        ack_reply = f"{self._prefix}.{token}"
        outgoing: list[tuple[str, str, dict[str, str], bytes]] = []
        for i, message in enumerate(messages):
            headers = dict(message.headers)
            headers["Nats-Batch-Id"] = batch_id
            headers["Nats-Batch-Sequence"] = str(i + 1)
            if i == last:
                headers["Nats-Batch-Commit"] = "1"
            # Errors on the first message come back too, so it carries the reply subject as well.
            reply = ack_reply if i in (0, last) else ""
            outgoing.append((message.subject, reply, headers, message.data))
        try:
            # Message by message through `publish`, on every client: batches are the rarer case,
            # and the crash tests (tests/faults) cut a batch in half by intercepting `publish`.
            for subject, reply, headers, data in outgoing:
                await self._nc.publish(subject, data, reply=reply, headers=headers)
        except nats.errors.Error as exc:
            self._futures.pop(token, None)
            self._deadlines.pop(token, None)
            raise JetStreamError(f"could not publish batch: {exc!r}") from exc
        return await self._await(token, fut, f"batch of {len(messages)}")
