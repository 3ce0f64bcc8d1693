"""XML Schema dateTime values as Data Integrity and VCDM 2.0 write them (`2023-02-24T23:36:38Z`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

__all__ = ["format_datetime", "parse_datetime"]

_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?"
)


def parse_datetime(value: object, *, require_timezone: bool = True) -> datetime:
    """Parse an XML Schema 1.1 dateTime (a dateTimeStamp when `require_timezone`).

    Raises ValueError with a one-line reason. A value without a time zone is returned naive.
    """
    if not isinstance(value, str):
        raise ValueError(f"expected a date-time string, got {type(value).__name__}")
    match = _DATETIME.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not an XML Schema dateTime (e.g. 2024-01-31T12:00:00Z)")
    zone = match["zone"]
    if zone is None and require_timezone:
        raise ValueError(f"{value!r} has no time zone (end it with 'Z' or an offset)")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    try:
        parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
        if zone is not None:
            parsed = parsed.replace(tzinfo=_zone(zone))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real date and time") from exc
    return parsed


def format_datetime(moment: datetime) -> str:
    """`moment` in UTC to the second, the way proofs and credentials write it."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no defined instant; pass an aware one")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(zone: str) -> timezone:
    if zone == "Z":
        return UTC
    sign = 1 if zone[0] == "+" else -1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 14 or minutes > 59 or (hours == 14 and minutes):
        raise ValueError(f"time-zone offset {zone} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
