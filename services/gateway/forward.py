"""Forwarding to services over NATS: a service's typed refusal becomes the same typed HTTP error."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client as NATS

from services.gateway.errors import GatewayError
from shared.commands import CommandClient, CommandRejected, CommandUnavailable


async def forward(nc: NATS, service: str, command: str, payload: dict[str, Any]) -> Any:
    try:
        return await CommandClient(nc, timeout=10).call(service, command, payload)
    except CommandRejected as exc:
        raise GatewayError(exc.status, exc.type, exc.message) from exc
    except CommandUnavailable as exc:
        raise GatewayError(503, f"{service}_unavailable", str(exc)) from exc
