"""Composition root of the messaging service: application, membership feed, ports, handlers, router."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.subscription import Subscription

from services.messaging.adapters.live import LiveNotices, NatsLiveNotices
from services.messaging.adapters.mailer import Mailer, SmtpMailer
from services.messaging.adapters.membership_feed import MembershipFeed, MembershipView
from services.messaging.adapters.polls import NatsPollsReader, PollsReader
from services.messaging.adapters.signer import CommunitySigner, NatsCommunitySigner
from services.messaging.application import MessagingApplication
from services.messaging.config import MessagingSettings
from services.messaging.domain.links import UnsubscribeLinks
from services.messaging.entrypoints import build_router
from services.messaging.handlers import MessagingHandlers, Nonces
from services.messaging.handlers.notices import NoticeMail
from services.messaging.subjects import SUBJECTS
from shared.catchup import follow_stream, unfollow_stream
from shared.commands import CommandClient, CommandRouter
from shared.notices import NOTICE_STREAM, NoticePublisher, ensure_notice_stream
from shared.projection import ProjectionWorker
from shared.signing import load_or_create_seed
from shared.statements import NonceRegistry

log = logging.getLogger(__name__)


@dataclass
class MessagingService:
    app: MessagingApplication
    handlers: MessagingHandlers
    router: CommandRouter
    feed: MembershipFeed
    landed: Subscription | None = None
    notice_mail: ProjectionWorker | None = None
    _scheduler: asyncio.Task[None] | None = field(default=None, repr=False)

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler
        if self.notice_mail is not None:
            await self.notice_mail.stop()
        await self.router.stop()
        await self.feed.stop()
        await self.handlers.drain()
        await unfollow_stream(self.handlers.catch_up, self.landed)
        await asyncio.to_thread(self.app.close)


def application_env(nats_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "shared.persistence.jetstream",
        "NATS_URL": nats_url,
        "NATS_STREAM": "MESSAGING",
        "NATS_SUBJECT_PREFIX": "messaging",
        "NATS_SIGNING_KEY_FILE": str(data_dir / "keys" / "messaging-instance.seed"),
    }


async def _schedule(handlers: MessagingHandlers, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await handlers.send_due()
        except Exception:
            log.exception("scheduled announcements: this round failed; the next one retries")
        try:
            await handlers.digest_round()  # looks each minute for summaries by email that are due
        except Exception:
            log.exception("summaries by email: this round failed; the next one retries")


async def start_messaging(
    nc: NATS,
    nats_url: str,
    data_dir: Path,
    settings: MessagingSettings | None = None,
    *,
    env: dict[str, Any] | None = None,
    signer: CommunitySigner | None = None,
    nonces: Nonces | None = None,
    mailer: Mailer | None = None,
    live: LiveNotices | None = None,
    membership_stream: str = "MEMBERSHIP",
    polls: PollsReader | None = None,
) -> MessagingService:
    """Start on JetStream (or on `env`, e.g. POPO); the ports accept test doubles."""
    settings = settings or MessagingSettings.from_env()
    app_env = env if env is not None else application_env(nats_url, data_dir)
    app = await asyncio.to_thread(MessagingApplication, app_env)
    if mailer is None and settings.smtp_host:
        mailer = SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            settings.smtp_starttls,
            settings.smtp_username,
            settings.smtp_password,
        )
    key_file = Path(settings.link_key_file or data_dir / "keys" / "messaging-links.seed")
    links = UnsubscribeLinks(await asyncio.to_thread(load_or_create_seed, key_file))
    view = MembershipView()
    feed = MembershipFeed(nc, view, stream=membership_stream, prefix=membership_stream.lower())
    handlers = MessagingHandlers(
        app,
        view,
        signer or NatsCommunitySigner(CommandClient(nc, timeout=settings.identity_timeout_s)),
        nonces or await NonceRegistry.open(nc),
        feed=feed,
        mailer=mailer,
        live=live or NatsLiveNotices(nc),
        notices=NoticePublisher(nc, "messaging") if mailer is not None else None,
        settings=settings,
        polls=polls or NatsPollsReader(CommandClient(nc, timeout=settings.identity_timeout_s)),
        links=links,
    )
    if mailer is not None:
        await ensure_notice_stream(nc)  # where notices wait to be mailed
    # Read models rebuilt from the stream, then kept level by following it.
    landed = await follow_stream(nc, handlers.catch_up, SUBJECTS.commits)
    feed.on_admitted = handlers.deliver_welcome
    await feed.start()
    router = build_router(handlers)
    await router.start(nc)
    service = MessagingService(app=app, handlers=handlers, router=router, feed=feed, landed=landed)
    if mailer is not None:
        # Notices by email (governance's and our own): one durable consumer shared by every replica.
        service.notice_mail = await ProjectionWorker(
            nc,
            NOTICE_STREAM,
            settings.notice_consumer,
            NoticeMail(handlers).apply,
            batch=100,
            ack_wait_s=60.0,
            # Forum and chat notices wait for their delay unacknowledged (handed back): room for
            # many minutes of a busy deployment's posts, so a poll's notice never queues behind them.
            max_ack_pending=1_000_000,
            retry_delays_s=(5.0, 30.0, 120.0, 600.0),
        ).start()
    service._scheduler = asyncio.get_running_loop().create_task(
        _schedule(handlers, settings.schedule_every_s)
    )
    return service


async def start(nc: NATS, nats_url: str, data_dir: Path) -> MessagingService:
    """What `cos run` calls (services/<name>/bootstrap.py extension point)."""
    return await start_messaging(nc, nats_url, data_dir)
