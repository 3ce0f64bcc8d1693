"""Membership service settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class MembershipSettings:
    identity_timeout_s: float = 10.0  # how long to wait for identity to issue or flip a credential

    @classmethod
    def from_env(cls) -> MembershipSettings:
        return cls(identity_timeout_s=float(os.environ.get("MEMBERSHIP_IDENTITY_TIMEOUT", "10")))
