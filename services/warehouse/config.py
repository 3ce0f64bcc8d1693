"""Warehouse service settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class WarehouseSettings:
    target: str | None = None  # a ClickHouse server URL, or a chdb directory; None: nothing to load
    batch: int = 2_000  # commits fetched and inserted at once
    ack_wait_s: float = 60.0  # after this long unacknowledged, a worker's batch goes to another

    @classmethod
    def from_env(cls) -> WarehouseSettings:
        return cls(
            target=os.environ.get("COS_WAREHOUSE") or None,
            batch=int(os.environ.get("WAREHOUSE_BATCH", "2000")),
            ack_wait_s=float(os.environ.get("WAREHOUSE_ACK_WAIT", "60")),
        )

    def __post_init__(self) -> None:
        if not 1 <= self.batch <= 10_000:
            raise ValueError(f"WAREHOUSE_BATCH must be 1-10000, not {self.batch}")
        if self.ack_wait_s < 1:
            raise ValueError(f"WAREHOUSE_ACK_WAIT must be at least 1 second, not {self.ack_wait_s:g}")
