"""Commands over NATS request/reply: `<service>.cmd.<name>`, JSON in, a typed result or error out.

Every refusal travels as `{"ok": false, "error": {"type", "message", "status"}}`, so the gateway
can answer HTTP with the same type and status, and nothing half-done reaches the log: handlers
record only after every check has passed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import msgspec
import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from opentelemetry.trace import SpanKind

from shared.domain import DomainError
from shared.natsclient import settled
from shared.subjects import InvalidSubject
from shared.telemetry import extract_context, inject_context, instruments, mark_error, span_in_context

__all__ = [
    "MAX_COMMAND_BYTES",
    "CommandClient",
    "CommandContext",
    "CommandRejected",
    "CommandRouter",
    "CommandUnavailable",
]

log = logging.getLogger(__name__)
MAX_COMMAND_BYTES = 256 * 1024
P = TypeVar("P", bound=msgspec.Struct)


class ErrorInfo(msgspec.Struct):
    type: str
    message: str
    status: int = 400


class Reply(msgspec.Struct, omit_defaults=True):
    ok: bool
    result: Any = None
    error: ErrorInfo | None = None


class CommandRejected(Exception):
    """The service refused the command; `type` and `status` say how, `message` says why."""

    def __init__(self, type_: str, message: str, status: int = 400) -> None:
        super().__init__(f"{type_}: {message}")
        self.type = type_
        self.message = message
        self.status = status


class CommandUnavailable(Exception):
    """No instance of the service answered (not running, or too slow)."""


@dataclass(frozen=True)
class CommandContext:
    """What a handler may know about the request beyond its payload."""

    subject: str
    headers: dict[str, str]


Handler = Callable[[Any, CommandContext], Awaitable[Any]]


@dataclass
class _Route(Generic[P]):
    name: str
    payload_type: type[P]
    handler: Handler


@dataclass
class CommandRouter:
    """Subscribes a service's command handlers (one queue group, so replicas share the load)."""

    service: str
    routes: dict[str, _Route[Any]] = field(default_factory=dict)
    refusals: Counter[str] = field(default_factory=Counter)
    _subs: list[Subscription] = field(default_factory=list)

    def command(
        self, name: str, payload_type: type[P]
    ) -> Callable[[Callable[[P, CommandContext], Awaitable[Any]]], Handler]:
        def register(handler: Callable[[P, CommandContext], Awaitable[Any]]) -> Handler:
            if name in self.routes:
                raise ValueError(f"command {self.service}.cmd.{name} registered twice")
            self.routes[name] = _Route(name, payload_type, handler)
            return handler

        return register

    async def start(self, nc: NATS) -> None:
        for route in self.routes.values():

            async def on_request(msg: Msg, route: _Route[Any] = route) -> None:
                await self._handle(msg, route)

            subject = f"{self.service}.cmd.{route.name}"
            self._subs.append(await nc.subscribe(subject, queue=self.service, cb=on_request))
        # Once start() returns the server knows every route: a command sent right after is
        # answered instead of refused with "no responders".
        await settled(nc)

    async def stop(self) -> None:
        for sub in self._subs:
            try:
                await sub.unsubscribe()
            except nats.errors.Error:
                log.debug("unsubscribe after connection closed", exc_info=True)
        self._subs.clear()

    async def _handle(self, msg: Msg, route: _Route[Any]) -> None:
        subject = f"{self.service}.cmd.{route.name}"
        started = time.perf_counter()
        with span_in_context(
            "commands",
            f"process {subject}",
            parent=extract_context(msg.headers),
            kind=SpanKind.SERVER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": subject,
                "cos.service": self.service,
                "cos.command": route.name,
            },
        ) as span:
            reply = await self._dispatch(msg, route)
            outcome = "ok"
            if reply.error is not None:
                outcome = reply.error.type
                self.refusals[outcome] += 1
                span.set_attribute("cos.refusal", outcome)
                if reply.error.status >= 500:
                    mark_error(span, reply.error.message)
            if msg.reply:
                await msg.respond(msgspec.json.encode(reply))
        instruments().command_duration.record(
            time.perf_counter() - started,
            {"cos.service": self.service, "cos.command": route.name, "cos.outcome": outcome},
        )

    async def _dispatch(self, msg: Msg, route: _Route[Any]) -> Reply:
        if len(msg.data) > MAX_COMMAND_BYTES:
            return _refuse("too_large", f"commands are at most {MAX_COMMAND_BYTES} bytes", 413)
        try:
            payload = msgspec.json.decode(msg.data, type=route.payload_type)
        except msgspec.ValidationError as exc:
            return _refuse("invalid_request", str(exc), 422)
        except msgspec.DecodeError as exc:
            return _refuse("malformed_json", str(exc), 400)
        context = CommandContext(subject=msg.subject, headers=dict(msg.headers or {}))
        try:
            result = await route.handler(payload, context)
        except CommandRejected as exc:
            return _refuse(exc.type, exc.message, exc.status)
        except DomainError as exc:
            return _refuse(exc.code, exc.message, exc.status)
        except InvalidSubject as exc:  # a name that cannot address anything (reserved, malformed)
            return _refuse("invalid_name", str(exc), 422)
        except Exception:
            log.exception("command %s.cmd.%s failed", self.service, route.name)
            return _refuse("internal", "the service failed; nothing was recorded", 500)
        return Reply(ok=True, result=msgspec.to_builtins(result))


def _refuse(type_: str, message: str, status: int) -> Reply:
    return Reply(ok=False, error=ErrorInfo(type_, message, status))


class CommandClient:
    """Sends commands and turns refusals back into CommandRejected."""

    def __init__(self, nc: NATS, timeout: float = 10.0) -> None:
        self._nc = nc
        self._timeout = timeout

    async def call(
        self,
        service: str,
        name: str,
        payload: Any,
        headers: dict[str, str] | None = None,
    ) -> Any:
        data = payload if isinstance(payload, bytes) else msgspec.json.encode(payload)
        subject = f"{service}.cmd.{name}"
        with span_in_context(
            "commands",
            f"send {subject}",
            kind=SpanKind.CLIENT,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": subject,
                "cos.service": service,
                "cos.command": name,
            },
        ) as span:
            try:
                msg = await self._nc.request(
                    subject, data, timeout=self._timeout, headers=inject_context(headers) or None
                )
            except nats.errors.NoRespondersError as exc:
                mark_error(span, "no responders")
                raise CommandUnavailable(f"no {service} service answers {subject}") from exc
            except (TimeoutError, nats.errors.TimeoutError) as exc:
                mark_error(span, "timeout")
                raise CommandUnavailable(f"{subject} did not answer in {self._timeout}s") from exc
            reply = msgspec.json.decode(msg.data, type=Reply)
            if not reply.ok:
                error = reply.error or ErrorInfo("internal", "refused without a reason", 500)
                span.set_attribute("cos.refusal", error.type)
                raise CommandRejected(error.type, error.message, error.status)
            return reply.result
