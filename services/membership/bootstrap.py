"""Composition root of the membership service: application, credentials port, handlers, router."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from services.membership.adapters.credentials import CredentialIssuer, NatsCredentials
from services.membership.application import MembershipApplication
from services.membership.config import MembershipSettings
from services.membership.entrypoints import build_router
from services.membership.handlers import MembershipHandlers, Nonces
from shared.catchup import follow_stream, unfollow_stream
from shared.commands import CommandClient, CommandRouter
from shared.statements import NonceRegistry
from shared.subjects import StreamSubjects


@dataclass
class MembershipService:
    app: MembershipApplication
    handlers: MembershipHandlers
    router: CommandRouter
    landed: Subscription | None = None

    async def stop(self) -> None:
        await self.router.stop()
        await unfollow_stream(self.handlers.catch_up, self.landed)
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
    # Read models rebuilt from the stream, then kept level by following it: every commit published
    # on the stream's subjects wakes the follower, which applies it from the log (verified, traced).
    landed = await follow_stream(nc, handlers.catch_up, StreamSubjects.for_service("membership").commits)
    router = build_router(handlers)
    await router.start(nc)
    return MembershipService(app=app, handlers=handlers, router=router, landed=landed)
