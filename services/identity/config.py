"""Identity service settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class IdentitySettings:
    invite_limit: int = 10  # open invites per member
    access_ttl_s: int = 15 * 60
    refresh_ttl_s: int = 30 * 24 * 3600
    challenge_ttl_s: int = 120
    token_key_file: str | None = None  # where the token-signing seed lives (created on first use)
    public_host: str = "cos.localhost"  # FQDN in community did:webvh DIDs; *.localhost is loopback (RFC 6761)
    public_port: int | None = 8000
    public_scheme: str = "http"  # https in production; loopback http is accepted by our resolver

    @classmethod
    def from_env(cls) -> IdentitySettings:
        return cls(
            invite_limit=int(os.environ.get("IDENTITY_INVITE_LIMIT", "10")),
            access_ttl_s=int(os.environ.get("IDENTITY_ACCESS_TTL", str(15 * 60))),
            refresh_ttl_s=int(os.environ.get("IDENTITY_REFRESH_TTL", str(30 * 24 * 3600))),
            challenge_ttl_s=int(os.environ.get("IDENTITY_CHALLENGE_TTL", "120")),
            token_key_file=os.environ.get("IDENTITY_TOKEN_KEY_FILE"),
            public_host=os.environ.get("COS_PUBLIC_HOST", "cos.localhost"),
            public_port=int(os.environ["COS_PUBLIC_PORT"]) if os.environ.get("COS_PUBLIC_PORT") else 8000,
            public_scheme=os.environ.get("COS_PUBLIC_SCHEME", "http"),
        )

    @property
    def base_url(self) -> str:
        port = f":{self.public_port}" if self.public_port else ""
        return f"{self.public_scheme}://{self.public_host}{port}"
