"""Live notices: after a commit, a small core-NATS message on `messaging.live.<community>`.

A notice names what changed and who may see it (`members`, or a category's `read_roles`), never
the content: a client fetches that through the gated API. The gateway streams notices as SSE.
"""

from __future__ import annotations

from nats.aio.client import Client as NATS

from shared.live import CoreLiveNotices, LiveNotices
from shared.live import live_subject as _live_subject

__all__ = ["LiveNotices", "NatsLiveNotices", "live_subject"]


def live_subject(community: str) -> str:
    return _live_subject("messaging", community)


class NatsLiveNotices(CoreLiveNotices):
    def __init__(self, nc: NATS) -> None:
        super().__init__(nc, "messaging")
