"""Composition root of the transparency service: the checkpointer and its commands."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from nats.aio.client import Client as NATS

from services.transparency.checkpointer import Checkpointer
from services.transparency.config import TransparencySettings
from services.transparency.entrypoints import build_router
from shared.commands import CommandRouter
from shared.signing import SigningKey

log = logging.getLogger(__name__)


@dataclass
class TransparencyService:
    checkpointer: Checkpointer
    router: CommandRouter

    async def stop(self) -> None:
        await self.router.stop()
        await self.checkpointer.stop()


async def start(
    nc: NATS, nats_url: str, data_dir: Path, settings: TransparencySettings | None = None
) -> TransparencyService:
    """Rebuild every community's tree from the streams, then follow them and answer commands."""
    del nats_url  # everything goes over the shared connection
    settings = settings or TransparencySettings.from_env()
    if os.environ.get("COS_WAREHOUSE"):
        log.info("transparency: COS_WAREHOUSE is loaded by the warehouse service (cos serve warehouse)")
    key = SigningKey.load_or_create(data_dir / "keys" / "checkpointer.seed")
    checkpointer = Checkpointer(
        nc, key, settings.deployment, interval_s=settings.interval_s, poll_s=settings.poll_s
    )
    await checkpointer.start()
    router = build_router(checkpointer)
    await router.start(nc)
    return TransparencyService(checkpointer, router)
