"""Live notices: after a commit, a small core-NATS message on `messaging.live.<community>`.

A notice names what changed and who may see it (`members`, or a category's `read_roles`), never
the content: a client fetches that through the gated API. The gateway streams notices as SSE.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import msgspec
import nats.errors
from nats.aio.client import Client as NATS

log = logging.getLogger(__name__)
LIVE_PREFIX = "messaging.live"


def live_subject(community: str) -> str:
    return f"{LIVE_PREFIX}.{community}"


class LiveNotices(Protocol):
    async def notify(self, community: str, notice: dict[str, Any]) -> None: ...


class NatsLiveNotices:
    def __init__(self, nc: NATS) -> None:
        self._nc = nc

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        try:
            await self._nc.publish(live_subject(community), msgspec.json.encode(notice))
        except nats.errors.Error:
            # The commit is stored; a missed notice only delays a screen until its next fetch.
            log.warning("live notice for %s not published", community, exc_info=True)
