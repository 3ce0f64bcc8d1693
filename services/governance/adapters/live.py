"""Live notices: after a ballot's commit, a small core-NATS message on `governance.live.<community>`.

Unlike the notices of `adapters/notices.py` (a poll opened, a reminder, a result: nudges that name
their recipients, are stored in the NOTICES stream and may be mailed), a live notice is stored
nowhere and mailed to no one: it only tells the screens open on a poll that it changed (a ballot
cast or replaced), so they fetch the board and turnout again. No stream captures the subject
(commits have four tokens, `governance.<c>.<aggregate>.<id>`; this has three). It goes to every
member with the live stream open, so it carries only what the poll's board already shows every
member: the poll, the voter, who cast the ballot, and the turnout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nats.aio.client import Client as NATS

from shared.live import CoreLiveNotices, LiveNotices
from shared.live import live_subject as _live_subject

__all__ = ["LiveNotices", "MemoryLiveNotices", "NatsLiveNotices", "NoLiveNotices", "live_subject"]


def live_subject(community: str) -> str:
    return _live_subject("governance", community)


class NatsLiveNotices(CoreLiveNotices):
    def __init__(self, nc: NATS) -> None:
        super().__init__(nc, "governance")


@dataclass
class MemoryLiveNotices:
    """The test double: remembers every live notice."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        self.sent.append((community, notice))


class NoLiveNotices:
    """Publishes nothing: for handlers built without a live port (screens then refresh on fetch)."""

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        return None
