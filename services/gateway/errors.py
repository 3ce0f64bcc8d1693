"""Typed error bodies: every refusal names a machine-readable type and a human reason."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class ErrorDetail(BaseModel):
    type: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class GatewayError(Exception):
    """An error the gateway answers with `status` and a typed body."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message


async def gateway_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    body = ErrorBody(error=ErrorDetail(type=exc.type, message=exc.message))
    return JSONResponse(status_code=exc.status, content=body.model_dump())
