"""Gateway settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class GatewaySettings:
    nats_url: str
    host: str = "127.0.0.1"
    port: int = 8000

    @classmethod
    def from_env(cls) -> GatewaySettings:
        return cls(
            nats_url=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
            host=os.environ.get("COS_HOST", "127.0.0.1"),
            port=int(os.environ.get("COS_PORT", "8000")),
        )
