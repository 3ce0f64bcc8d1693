"""Use cases of the governance service: verify the member's signed statement, decide, record."""

from __future__ import annotations

from services.governance.handlers.voting import VotingHandlers
from shared.statements import Nonces

__all__ = ["GovernanceHandlers", "Nonces"]


class GovernanceHandlers(VotingHandlers):
    """Every command of `governance.cmd.*`, composed over one application and the membership port."""
