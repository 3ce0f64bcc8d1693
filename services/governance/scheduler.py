"""The clock of Decide: opens scheduled polls, sends reminders and closes polls when their time comes."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.governance.handlers import GovernanceHandlers

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, handlers: GovernanceHandlers, every_s: float) -> None:
        self._handlers = handlers
        self._every_s = every_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="governance-scheduler")

    async def _run(self) -> None:
        while True:
            try:
                await self._handlers.tick()
            except Exception:
                # A failed tick (membership away, a conflict) is retried on the next one; nothing half-done.
                log.exception("governance scheduler tick failed")
            await asyncio.sleep(self._every_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
