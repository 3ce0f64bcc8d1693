"""Composition root of the membership service: application, credentials port, handlers, router."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS

from services.membership.adapters.credentials import CredentialIssuer, NatsCredentials
from services.membership.application import MembershipApplication
from services.membership.config import MembershipSettings
from services.membership.entrypoints import build_router
from services.membership.handlers import MembershipHandlers, Nonces
from shared.commands import CommandClient, CommandRouter
from shared.statements import NonceRegistry


@dataclass
class MembershipService:
    app: MembershipApplication
    handlers: MembershipHandlers
    router: CommandRouter

    async def stop(self) -> None:
        await self.router.stop()
        await asyncio.to_thread(self.app.close)


def application_env(nats_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "shared.persistence.jetstream",
        "NATS_URL": nats_url,
        "NATS_STREAM": "MEMBERSHIP",
        "NATS_SUBJECT_PREFIX": "membership",
        "NATS_SIGNING_KEY_FILE": str(data_dir / "keys" / "membership-instance.seed"),
    }


async def start_membership(
    nc: NATS,
    nats_url: str,
    data_dir: Path,
    settings: MembershipSettings | None = None,
    *,
    env: dict[str, Any] | None = None,
    credentials: CredentialIssuer | None = None,
    nonces: Nonces | None = None,
) -> MembershipService:
    """Start on JetStream (or on `env`, e.g. POPO); `credentials` and `nonces` accept fakes."""
    settings = settings or MembershipSettings.from_env()
    app_env = env if env is not None else application_env(nats_url, data_dir)
    app = await asyncio.to_thread(MembershipApplication, app_env)
    issuer = credentials or NatsCredentials(CommandClient(nc, timeout=settings.identity_timeout_s))
    handlers = MembershipHandlers(app, issuer, nonces or await NonceRegistry.open(nc))
    await asyncio.to_thread(handlers.catch_up)  # read models rebuilt from the stream
    router = build_router(handlers)
    await router.start(nc)
    return MembershipService(app=app, handlers=handlers, router=router)
