"""Composition root of the governance service: application, membership port, notices (stored and
live-only), router, scheduler."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from services.governance.adapters.live import LiveNotices, NatsLiveNotices
from services.governance.adapters.membership import Membership, NatsMembership
from services.governance.adapters.notices import NatsNotices, Notices
from services.governance.application import GovernanceApplication
from services.governance.config import GovernanceSettings
from services.governance.entrypoints import build_router
from services.governance.handlers import GovernanceHandlers, Nonces
from services.governance.scheduler import Scheduler
from services.governance.subjects import SUBJECTS
from shared.catchup import follow_stream, unfollow_stream
from shared.commands import CommandClient, CommandRouter
from shared.statements import NonceRegistry


@dataclass
class GovernanceService:
    app: GovernanceApplication
    handlers: GovernanceHandlers
    routers: list[CommandRouter]
    scheduler: Scheduler
    landed: Subscription | None = None

    async def stop(self) -> None:
        await self.scheduler.stop()
        for router in self.routers:
            await router.stop()
        await unfollow_stream(self.handlers.catch_up, self.landed)
        await asyncio.to_thread(self.app.close)


def application_env(nats_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "shared.persistence.jetstream",
        "NATS_URL": nats_url,
        "NATS_STREAM": "GOVERNANCE",
        "NATS_SUBJECT_PREFIX": "governance",
        "NATS_SIGNING_KEY_FILE": str(data_dir / "keys" / "governance-instance.seed"),
    }


async def start_governance(
    nc: NATS,
    nats_url: str,
    data_dir: Path,
    settings: GovernanceSettings | None = None,
    *,
    env: dict[str, Any] | None = None,
    membership: Membership | None = None,
    nonces: Nonces | None = None,
    notices: Notices | None = None,
    live: LiveNotices | None = None,
) -> GovernanceService:
    """Start on JetStream (or on `env`, e.g. POPO); the ports accept test doubles."""
    settings = settings or GovernanceSettings.from_env()
    app_env = env if env is not None else application_env(nats_url, data_dir)
    app = await asyncio.to_thread(GovernanceApplication, app_env)
    handlers = GovernanceHandlers(
        app,
        membership or NatsMembership(CommandClient(nc, timeout=settings.membership_timeout_s)),
        nonces or await NonceRegistry.open(nc),
        notices or NatsNotices(nc),
        live=live or NatsLiveNotices(nc),
    )
    # Read models rebuilt from the stream, then kept level by following it.
    landed = await follow_stream(nc, handlers.catch_up, SUBJECTS.commits)
    # nats-py runs one subscription's callbacks one after another; several subscriptions in the same
    # queue group let casts overlap their waits on JetStream (each ballot is its own aggregate, and
    # optimistic concurrency keeps one member's casts in order).
    routers = [build_router(handlers) for _ in range(max(1, settings.concurrency))]
    for router in routers:
        await router.start(nc)
    scheduler = Scheduler(handlers, settings.tick_s)
    scheduler.start()
    return GovernanceService(app=app, handlers=handlers, routers=routers, scheduler=scheduler, landed=landed)


async def start(nc: NATS, nats_url: str, data_dir: Path) -> GovernanceService:
    """What `cos run` calls."""
    return await start_governance(nc, nats_url, data_dir)
