"""`GET /metrics`: the process's metrics in Prometheus text format, for a scraper beside the gateway."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from services.gateway.telemetry import prometheus_text
from shared.telemetry import setup_telemetry

ORDER = 15
router = APIRouter(tags=["health"])
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/metrics", include_in_schema=False)
async def metrics() -> PlainTextResponse:
    reader = setup_telemetry().metrics_reader
    # Collecting runs the consumer-lag callbacks, which ask JetStream: off the event loop.
    data = await asyncio.to_thread(reader.get_metrics_data)
    return PlainTextResponse(prometheus_text(data), media_type=CONTENT_TYPE)
