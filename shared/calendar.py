"""A meeting as an iCalendar file (RFC 5545), for calendar apps: the app's download and the mail's attachment.

Written with the `icalendar` library (escaping, line folding and date forms are its job, see
decision 0022). Times are written in UTC, so every calendar shows them in its own time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar, Event

PRODUCT = "-//Community OS//Decide//EN"


def meeting_ics(
    *,
    uid: str,
    title: str,
    start: datetime,
    end: datetime,
    stamp: datetime,
    sequence: int = 0,
    location: str = "",
    description: str = "",
    url: str = "",
) -> bytes:
    """One published event. `uid` names the meeting for good (the same poll gives the same uid, so a
    calendar that imports a corrected file replaces the meeting instead of adding a second one);
    `stamp` is when it was fixed and `sequence` counts the corrections before this one."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", title)
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    if url:
        event.add("url", url)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def poll_meeting_ics(
    meeting: Mapping[str, Any], *, community: str, poll: str, host: str, title: str, outcome: str, link: str
) -> bytes:
    """The file of the meeting a meeting poll's outcome fixed, from governance's `meeting` view
    (`start`, `end`, `fixed_at` RFC 3339; `revision`; `location`): the same file whether the app
    downloads it or a mail carries it. Raises KeyError / ValueError for a malformed view."""
    return meeting_ics(
        uid=f"{community}.poll.{poll}@{host or 'community-os'}",
        title=title,
        start=datetime.fromisoformat(str(meeting["start"])),
        end=datetime.fromisoformat(str(meeting["end"])),
        stamp=datetime.fromisoformat(str(meeting["fixed_at"])),
        sequence=int(meeting.get("revision") or 0),
        location=str(meeting.get("location") or ""),
        description=f"{outcome}\n\n{link}".strip(),
        url=link,
    )
