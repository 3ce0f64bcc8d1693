"""Use cases of the social service: verify the signed statement, check membership, decide, record."""

from __future__ import annotations

from services.social.handlers.blog import BlogHandlers
from services.social.handlers.feeds import FeedHandlers
from services.social.handlers.introductions import IntroductionHandlers
from services.social.handlers.vault import VaultHandlers
from shared.statements import Nonces

__all__ = ["Nonces", "SocialHandlers"]


class SocialHandlers(BlogHandlers, FeedHandlers, IntroductionHandlers, VaultHandlers):
    """Every command of `social.cmd.*`, composed over one application and its ports."""
