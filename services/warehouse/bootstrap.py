"""Composition root of the warehouse service: the projection workers of the ClickHouse warehouse.

Every replica runs one worker per logged stream on the shared durable consumer `warehouse`, so
replicas divide the streams' commits between them (`shared/projection.py`). Without
`COS_WAREHOUSE` there is nothing to load: the service says so and idles, ready, so that a
deployment without ClickHouse can leave it running.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from nats.aio.client import Client as NATS

from services.transparency.warehouse import WarehouseProjection, open_warehouse
from services.warehouse.config import WarehouseSettings

log = logging.getLogger(__name__)


@dataclass
class WarehouseService:
    projection: WarehouseProjection | None

    async def stop(self) -> None:
        if self.projection is not None:
            await self.projection.stop()


async def start(
    nc: NATS, nats_url: str, data_dir: Path, settings: WarehouseSettings | None = None
) -> WarehouseService:
    del nats_url, data_dir  # the warehouse is wherever COS_WAREHOUSE says; NATS is the shared connection
    settings = settings or WarehouseSettings.from_env()
    if settings.target is None:
        log.info("warehouse: COS_WAREHOUSE is not set; nothing to load (cos sql keeps its own copy)")
        return WarehouseService(None)
    target = settings.target
    warehouse = await asyncio.to_thread(open_warehouse, target if "://" in target else Path(target))
    projection = WarehouseProjection(nc, warehouse, batch=settings.batch, ack_wait_s=settings.ack_wait_s)
    await projection.start()
    return WarehouseService(projection)
