"""Liveness and readiness: is the process up, and can it serve (bus connected, streams present)?"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from services.gateway.deps import Nats
from services.gateway.errors import ErrorBody, GatewayError
from shared.jetstream import JetStreamAPIError, JetStreamError
from shared.jetstream.streams import stream_info

ORDER = 10
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class StreamState(BaseModel):
    name: str
    messages: int
    last_seq: int


class Readiness(BaseModel):
    status: str
    streams: list[StreamState]


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": ErrorBody}})
async def readyz(request: Request, nc: Nats) -> Readiness:
    states = []
    for name in request.app.state.required_streams:
        try:
            info = await stream_info(nc, name, within=2)
        except JetStreamAPIError as exc:
            raise GatewayError(503, "stream_missing", f"stream {name}: {exc}") from exc
        except JetStreamError as exc:
            raise GatewayError(503, "nats_unavailable", f"JetStream did not answer: {exc}") from exc
        state = info["state"]
        states.append(StreamState(name=name, messages=state["messages"], last_seq=state["last_seq"]))
    return Readiness(status="ready", streams=states)
