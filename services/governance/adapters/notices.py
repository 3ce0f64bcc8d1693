"""Notices to eligible members (poll opened, reminder, closed), published on `governance.notice.<community>`.

Core NATS, not JetStream: the facts are in the log already (PollOpened, ReminderSent, ResultsRecorded);
a notice is the nudge that the messaging service (or any subscriber) turns into mail or a push.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec
from nats.aio.client import Client as NATS


class Notices(Protocol):
    async def notify(self, community: str, notice: dict[str, Any]) -> None: ...


def notice_subject(community: str) -> str:
    return f"governance.notice.{community}"


class NatsNotices:
    def __init__(self, nc: NATS) -> None:
        self._nc = nc

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        await self._nc.publish(notice_subject(community), msgspec.json.encode(notice))


@dataclass
class MemoryNotices:
    """The test double: remembers every notice."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        self.sent.append((community, notice))
