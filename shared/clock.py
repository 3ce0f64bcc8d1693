"""Instants as services keep them: integer nanoseconds since the epoch, shown as RFC 3339."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain import DomainError
from shared.trust.datetimes import format_datetime, parse_datetime
from shared.trust.errors import TrustError

NS = 10**9


def moment(now_ns: int) -> datetime:
    return datetime.fromtimestamp(now_ns / NS, tz=UTC)


def rfc3339(now_ns: int) -> str:
    return format_datetime(moment(now_ns))


def instant(value: str | None, default: int) -> int:
    """Nanoseconds of an RFC 3339 instant a client sent, `default` when none; else `invalid_request`."""
    if value is None:
        return default
    try:
        return int(parse_datetime(value).timestamp() * NS)
    except (TrustError, TypeError, ValueError) as exc:
        raise DomainError("invalid_request", f"not an RFC 3339 instant: {value!r}") from exc
