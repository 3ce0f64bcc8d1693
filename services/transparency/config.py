"""Transparency service settings, read once from the environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

_DEPLOYMENT = re.compile(r"^[A-Za-z0-9.\-_:/]{1,200}$")


@dataclass(frozen=True)
class TransparencySettings:
    deployment: str = "cos.localhost"  # names this deployment in checkpoint origins and its note key
    interval_s: float = 1.0  # at most one checkpoint per community and stream this often
    poll_s: float = 2.0  # re-read the streams this often even when no new commit was announced

    @classmethod
    def from_env(cls) -> TransparencySettings:
        deployment = os.environ.get("COS_DEPLOYMENT") or os.environ.get("COS_PUBLIC_HOST") or "cos.localhost"
        return cls(
            deployment=deployment,
            interval_s=float(os.environ.get("TRANSPARENCY_INTERVAL", "1.0")),
            poll_s=float(os.environ.get("TRANSPARENCY_POLL", "2.0")),
        )

    def __post_init__(self) -> None:
        if not _DEPLOYMENT.match(self.deployment):
            raise ValueError(
                f"deployment name {self.deployment!r} must be 1-200 characters of A-Z a-z 0-9 . - _ : /"
            )
