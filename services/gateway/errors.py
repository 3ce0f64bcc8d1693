"""Typed error bodies: every refusal names a machine-readable type and a human reason."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


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


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation errors in our typed shape (malformed JSON is its own type)."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    where = ".".join(str(part) for part in first.get("loc", ()))
    if first.get("type") == "json_invalid":
        body = ErrorBody(error=ErrorDetail(type="malformed_json", message=f"{where}: {first['msg']}"))
        return JSONResponse(status_code=400, content=body.model_dump())
    body = ErrorBody(error=ErrorDetail(type="invalid_request", message=f"{where}: {first['msg']}"))
    return JSONResponse(status_code=422, content=body.model_dump())


HTTP_ERROR_TYPES = {404: "not_found", 405: "method_not_allowed"}


async def http_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (no such route, wrong method) in our typed shape."""
    assert isinstance(exc, StarletteHTTPException)
    type_ = HTTP_ERROR_TYPES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    body = ErrorBody(error=ErrorDetail(type=type_, message=message))
    return JSONResponse(status_code=exc.status_code, content=body.model_dump(), headers=exc.headers)
