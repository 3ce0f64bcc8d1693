"""Live notices: after a commit, a small core-NATS message on `<service>.live.<community>`.

Stored nowhere and mailed to no one (no stream captures the subject: commits have four tokens,
this has three): it tells the screens open on what changed to fetch it again through the gated
API, which the gateway streams to members as Server-Sent Events. A missed one only delays a screen
until its next fetch, so publishing never fails the command that made the commit.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import msgspec
import nats.errors
from nats.aio.client import Client as NATS

log = logging.getLogger(__name__)


def live_subject(service: str, community: str) -> str:
    return f"{service}.live.{community}"


class LiveNotices(Protocol):
    async def notify(self, community: str, notice: dict[str, Any]) -> None: ...


class CoreLiveNotices:
    """Publishes a service's live notices; a failure is logged and the notice dropped."""

    def __init__(self, nc: NATS, service: str) -> None:
        self._nc = nc
        self.service = service

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        try:
            await self._nc.publish(live_subject(self.service, community), msgspec.json.encode(notice))
        except nats.errors.Error:
            log.warning(
                "live notice %s of %s for %s not published",
                notice.get("kind"),
                self.service,
                community,
                exc_info=True,
            )
