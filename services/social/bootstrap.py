"""Composition root of the social service: application, ports (membership, messaging), handlers, router."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from services.social.adapters.chat import ChatOpener, NatsChatOpener
from services.social.adapters.members import NatsRoster, Roster
from services.social.adapters.messaging_events import MessagingEvents
from services.social.application import SocialApplication
from services.social.config import SocialSettings
from services.social.entrypoints import build_router
from services.social.handlers import Nonces, SocialHandlers
from services.social.projections.content import ContentView
from services.social.subjects import SUBJECTS
from shared.catchup import follow_stream, unfollow_stream
from shared.commands import CommandClient, CommandRouter
from shared.statements import NonceRegistry
from shared.subjects import StreamSubjects


@dataclass
class SocialService:
    app: SocialApplication
    handlers: SocialHandlers
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
        "NATS_STREAM": SUBJECTS.stream,
        "NATS_SUBJECT_PREFIX": SUBJECTS.prefix,
        "NATS_SIGNING_KEY_FILE": str(data_dir / "keys" / "social-instance.seed"),
    }


async def start_social(
    nc: NATS,
    nats_url: str,
    data_dir: Path,
    settings: SocialSettings | None = None,
    *,
    env: dict[str, Any] | None = None,
    roster: Roster | None = None,
    nonces: Nonces | None = None,
    chats: ChatOpener | None = None,
    messaging: StreamSubjects | None = None,
) -> SocialService:
    """Start on JetStream (or on `env`, e.g. POPO); `roster`, `nonces` and `chats` accept fakes;
    `messaging` names the stream feeds read announcements and forum posts from (MESSAGING)."""
    settings = settings or SocialSettings.from_env()
    app_env = env if env is not None else application_env(nats_url, data_dir)
    app = await asyncio.to_thread(SocialApplication, app_env)
    content = ContentView()
    handlers = SocialHandlers(
        app,
        roster or NatsRoster(CommandClient(nc, timeout=settings.membership_timeout_s)),
        nonces or await NonceRegistry.open(nc),
        chats or NatsChatOpener(CommandClient(nc, timeout=settings.messaging_timeout_s)),
        content=content,
        content_source=MessagingEvents(nc, content, messaging),
    )
    # Read models rebuilt from the stream, then kept level by following it.
    landed = await follow_stream(nc, handlers.catch_up, SUBJECTS.commits)
    router = build_router(handlers)
    await router.start(nc)
    return SocialService(app=app, handlers=handlers, router=router, landed=landed)


async def start(nc: NATS, nats_url: str, data_dir: Path) -> SocialService:
    """The entry point `cos run` looks up."""
    return await start_social(nc, nats_url, data_dir)
