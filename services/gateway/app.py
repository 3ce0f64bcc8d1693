"""The gateway application: FastAPI with a lifespan-managed NATS connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.gateway.config import GatewaySettings
from services.gateway.errors import (
    GatewayError,
    gateway_error_handler,
    http_error_handler,
    validation_error_handler,
)
from services.gateway.limits import BodySizeLimit, RateLimit, ReservedCommunities
from services.gateway.routers import discover_routers
from services.gateway.telemetry import fastapi_telemetry
from shared.natsclient import connect
from shared.telemetry import setup_telemetry


def create_app(settings: GatewaySettings, required_streams: Sequence[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.nats = await connect(settings.nats_url, name="cos-gateway")
        try:
            yield
        finally:
            await app.state.nats.close()

    telemetry = setup_telemetry()  # once per process; FastAPI's own request spans and metrics use it
    app = FastAPI(
        title="Community OS gateway",
        version="0.1.0",
        lifespan=lifespan,
        telemetry=fastapi_telemetry(),
    )
    app.state.telemetry = telemetry
    app.state.required_streams = list(required_streams)
    app.add_exception_handler(GatewayError, gateway_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(ReservedCommunities)
    app.add_middleware(RateLimit, limits=settings.rate_limits)
    if settings.cors_origins:
        # Bearer tokens, never cookies: no ambient credential a cross-site page could ride (no CSRF);
        # other sites' pages reach the API only from the origins the operator lists.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type", "traceparent"],
            allow_credentials=False,
            max_age=600,
        )
    for router in discover_routers():
        app.include_router(router)
    return app
