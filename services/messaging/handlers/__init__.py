"""Use cases of the messaging service: verify the signed statement, gate by membership, decide, record."""

from __future__ import annotations

from services.messaging.handlers.announcements import AnnouncementHandlers
from services.messaging.handlers.digests import DigestHandlers
from services.messaging.handlers.moderation import ModerationHandlers
from services.messaging.handlers.reads import ReadHandlers
from shared.statements import Nonces

__all__ = ["MessagingHandlers", "Nonces"]


class MessagingHandlers(AnnouncementHandlers, ModerationHandlers, DigestHandlers, ReadHandlers):
    """Every command of `messaging.cmd.*`, composed over one application and its ports."""
