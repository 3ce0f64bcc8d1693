"""Gateway settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimits:
    """Token buckets per client (her access token, else her address): reads and writes apart.

    The defaults leave a person, a browser tab and a script far below them and stop a flood;
    `COS_RATE_LIMIT=off` turns them off (a benchmark measuring the services, say).
    """

    enabled: bool = True
    read_per_s: float = 50.0
    read_burst: float = 300.0
    write_per_s: float = 20.0
    write_burst: float = 200.0

    @classmethod
    def from_env(cls) -> RateLimits:
        defaults = cls()
        return cls(
            enabled=os.environ.get("COS_RATE_LIMIT", "on").lower() not in ("off", "0", "false", "no"),
            read_per_s=float(os.environ.get("COS_RATE_READ_PER_S", defaults.read_per_s)),
            read_burst=float(os.environ.get("COS_RATE_READ_BURST", defaults.read_burst)),
            write_per_s=float(os.environ.get("COS_RATE_WRITE_PER_S", defaults.write_per_s)),
            write_burst=float(os.environ.get("COS_RATE_WRITE_BURST", defaults.write_burst)),
        )


@dataclass(frozen=True)
class GatewaySettings:
    nats_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    rate_limits: RateLimits = RateLimits()
    # Origins allowed to call the API from another site's pages (none by default: the web app is
    # served by the gateway itself, same origin). Comma-separated in COS_CORS_ORIGINS.
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(
        cls, *, nats_url: str | None = None, host: str | None = None, port: int | None = None
    ) -> GatewaySettings:
        """Every setting from the environment; the address and NATS URL a command line gave win."""
        origins = os.environ.get("COS_CORS_ORIGINS", "")
        return cls(
            nats_url=nats_url or os.environ.get("NATS_URL", "nats://127.0.0.1:4222"),
            host=host or os.environ.get("COS_HOST", "127.0.0.1"),
            port=port if port is not None else int(os.environ.get("COS_PORT", "8000")),
            rate_limits=RateLimits.from_env(),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        )
