"""Notices to members (a poll opened, a reminder, a result, a trustee's turn): `governance.notice.<c>`.

The facts are in the log already (PollOpened, ReminderSent, ResultsRecorded...); a notice is the
nudge. It is stored in the NOTICES stream (`shared/notices.py`), so the gateway forwards it live to
its recipients who are online and the messaging service mails it to those who asked for email,
even when messaging was down as it was published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from nats.aio.client import Client as NATS

from shared.notices import NoticePublisher


class Notices(Protocol):
    async def notify(self, community: str, notice: dict[str, Any]) -> None: ...


def notice_subject(community: str) -> str:
    return f"governance.notice.{community}"


class NatsNotices(NoticePublisher):
    def __init__(self, nc: NATS) -> None:
        super().__init__(nc, "governance")


@dataclass
class MemoryNotices:
    """The test double: remembers every notice."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        self.sent.append((community, notice))
