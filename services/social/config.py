"""Social service settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class SocialSettings:
    membership_timeout_s: float = 5.0  # how long to wait for membership to say who is a member
    messaging_timeout_s: float = 5.0  # how long to wait for messaging to open an introduction's chat

    @classmethod
    def from_env(cls) -> SocialSettings:
        return cls(
            membership_timeout_s=float(os.environ.get("SOCIAL_MEMBERSHIP_TIMEOUT", "5")),
            messaging_timeout_s=float(os.environ.get("SOCIAL_MESSAGING_TIMEOUT", "5")),
        )
