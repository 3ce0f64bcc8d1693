"""Dependencies routes declare with `Annotated` aliases; connections live on app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from nats.aio.client import Client as NATS

from services.gateway.errors import GatewayError


def get_nats(request: Request) -> NATS:
    nc: NATS | None = getattr(request.app.state, "nats", None)
    if nc is None or not nc.is_connected:
        raise GatewayError(503, "nats_unavailable", "the message bus is not connected")
    return nc


Nats = Annotated[NATS, Depends(get_nats)]
