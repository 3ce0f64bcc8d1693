"""When a member's summary by email is due, and which stretch of time it covers.

A summary (a "digest") is daily or weekly, at a whole hour of UTC that she chose (the app offers
her own time of day and converts it), and weekly on a weekday (0 = Monday). Its periods end on those
boundaries: a daily summary at 07:00 covers everything from the previous one (or from when she
asked for summaries) up to 07:00 today. The boundary is a pure function of the setting and the
clock, so every replica of the service computes the same period and names it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.messaging.domain.errors import Invalid

FREQUENCIES = ("off", "daily", "weekly")
DEFAULT_HOUR = 7  # UTC
NS = 10**9


@dataclass(frozen=True)
class DigestSetting:
    frequency: str = "off"
    hour: int = DEFAULT_HOUR
    weekday: int = 0
    since_ns: int = 0  # when she chose it: the first summary covers no earlier


@dataclass(frozen=True)
class Period:
    name: str  # "daily 2026-11-24" or "weekly 2026-W48": the same on every replica
    since_ns: int
    until_ns: int


def reconfigured(before: DigestSetting, frequency: str, hour: int, weekday: int, at_ns: int) -> DigestSetting:
    """The setting after a change: summaries cover what came after she turned them on, so a changed
    hour or day keeps that start and loses nothing."""
    since = before.since_ns if before.frequency != "off" else at_ns
    return DigestSetting(frequency, hour, weekday, since)


def check_setting(frequency: str, hour: int, weekday: int) -> None:
    if frequency not in FREQUENCIES:
        raise Invalid("invalid_request", f"frequency is one of {', '.join(FREQUENCIES)}")
    if not 0 <= hour <= 23:
        raise Invalid("invalid_request", "hour is a whole hour of UTC, 0 to 23")
    if not 0 <= weekday <= 6:
        raise Invalid("invalid_request", "weekday is 0 (Monday) to 6 (Sunday)")


def last_boundary(setting: DigestSetting, now_ns: int) -> datetime | None:
    """The latest end of a period at or before `now_ns`, or None when summaries are off."""
    if setting.frequency not in ("daily", "weekly"):
        return None
    now = datetime.fromtimestamp(now_ns / NS, UTC)
    boundary = now.replace(hour=setting.hour, minute=0, second=0, microsecond=0)
    if boundary > now:
        boundary -= timedelta(days=1)
    if setting.frequency == "weekly":
        boundary -= timedelta(days=(boundary.weekday() - setting.weekday) % 7)
    return boundary


def period_name(setting: DigestSetting, boundary: datetime) -> str:
    if setting.frequency == "weekly":
        year, week, _ = boundary.isocalendar()
        return f"weekly {year}-W{week:02d}"
    return f"daily {boundary:%Y-%m-%d}"


def due(setting: DigestSetting, last_until_ns: int, now_ns: int) -> Period | None:
    """The period to summarise now: from the end of the last one mailed (or from when she chose
    summaries) to the latest boundary, when that boundary is later; else None."""
    boundary = last_boundary(setting, now_ns)
    if boundary is None:
        return None
    until = int(boundary.timestamp()) * NS
    since = max(last_until_ns, setting.since_ns)
    if until <= since:
        return None
    return Period(period_name(setting, boundary), since, until)
