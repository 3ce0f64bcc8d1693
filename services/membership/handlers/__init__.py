"""Use cases of the membership service: verify the signed statement, decide, get credentials, record."""

from __future__ import annotations

from services.membership.handlers.bulk import BulkHandlers
from services.membership.handlers.community import CommunityHandlers
from services.membership.handlers.lifecycle import LifecycleHandlers
from services.membership.handlers.roll import RollHandlers
from shared.statements import Nonces

__all__ = ["MembershipHandlers", "Nonces"]


class MembershipHandlers(CommunityHandlers, LifecycleHandlers, RollHandlers, BulkHandlers):
    """Every command of `membership.cmd.*`, composed over one application and one credentials port."""
