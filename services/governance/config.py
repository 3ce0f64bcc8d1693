"""Governance service settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class GovernanceSettings:
    membership_timeout_s: float = 10.0  # how long to wait for membership (roll snapshots, members)
    tick_s: float = 1.0  # how often the scheduler opens, reminds and closes polls
    concurrency: int = 4  # commands handled at once (subscriptions in the service's queue group)

    @classmethod
    def from_env(cls) -> GovernanceSettings:
        return cls(
            membership_timeout_s=float(os.environ.get("GOVERNANCE_MEMBERSHIP_TIMEOUT", "10")),
            tick_s=float(os.environ.get("GOVERNANCE_TICK_S", "1")),
            concurrency=int(os.environ.get("GOVERNANCE_CONCURRENCY", "4")),
        )
