"""Use cases of the governance service: verify the member's signed statement, decide, record."""

from __future__ import annotations

from services.governance.handlers.base import Nonces
from services.governance.handlers.voting import VotingHandlers

__all__ = ["GovernanceHandlers", "Nonces"]


class GovernanceHandlers(VotingHandlers):
    """Every command of `governance.cmd.*`, composed over one application and the membership port."""
