"""Guards every request passes first: the body size limit, enforced while the body streams in (not
only by Content-Length), and reserved names that can never be a community in `/c/<community>/…`."""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.config import RateLimits
from shared.subjects import is_reserved_community

MAX_BODY_BYTES = 256 * 1024


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except BodyTooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"error": {"type": "too_large", "message": f"request bodies are at most {self.max_bytes} bytes"}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class ReservedCommunities:
    """`/c/_tracking/…` or `/c/cmd/…` name infrastructure subjects, never a community: 404 at the door."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            parts = scope.get("path", "").split("/", 3)
            if len(parts) > 2 and parts[1] == "c" and is_reserved_community(parts[2]):
                body = json.dumps(
                    {"error": {"type": "unknown_community", "message": f"{parts[2]!r} is a reserved name"}}
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 404,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


EXEMPT = ("/healthz", "/readyz", "/metrics")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_CLIENTS = 100_000  # buckets kept per gateway process; the least recently seen go first


class RateLimit:
    """Per-client token buckets, reads and writes apart; over the limit: 429 `rate_limited` with
    Retry-After, before the request reaches a service. A client is her bearer token when she sends
    one (each member her own bucket, wherever she connects from), else her address."""

    def __init__(self, app: ASGIApp, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.limits = limits
        self.clock = clock
        self.buckets: OrderedDict[tuple[str, bool], tuple[float, float]] = OrderedDict()

    def _client(self, scope: Scope) -> str:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                return "token:" + hashlib.sha256(value).hexdigest()[:32]
        client = scope.get("client")
        return f"addr:{client[0] if client else 'unknown'}"

    def take(self, client: str, write: bool) -> float:
        """0 when a token was taken, else the seconds until one will be there."""
        rate = self.limits.write_per_s if write else self.limits.read_per_s
        burst = self.limits.write_burst if write else self.limits.read_burst
        now = self.clock()
        key = (client, write)
        tokens, seen = self.buckets.pop(key, (burst, now))
        tokens = min(burst, tokens + (now - seen) * rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / rate
        self.buckets[key] = (tokens, now)
        while len(self.buckets) > MAX_CLIENTS:
            self.buckets.popitem(last=False)
        return wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.limits.enabled or path in EXEMPT:
            await self.app(scope, receive, send)
            return
        write = scope.get("method", "GET") not in SAFE_METHODS
        wait = self.take(self._client(scope), write)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        kind = "writes" if write else "reads"
        body = json.dumps(
            {"error": {"type": "rate_limited", "message": f"too many {kind}; try again in {wait:.1f} s"}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(max(1, round(wait + 0.5))).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
