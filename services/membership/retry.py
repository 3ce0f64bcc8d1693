"""Optimistic-concurrency conflicts are the membership service's own business, never the caller's.

Every membership use case loads aggregates, decides and saves them as one atomic batch. When
another request or replica committed to one of them first, the save raises `Conflict`; the command
is then run again from its loads (the member statement is not verified or claimed twice: the first
verification is reused), so it decides on the fresh state and may now be refused for a real reason.
After MAX_ATTEMPTS lost races the command is refused as `busy` (503), nothing recorded.
Credentials issued for an attempt whose save lost are revoked by that attempt (`HandlerBase.save`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TypeVar

from shared.domain import DomainError
from shared.statements import VerifiedStatement

MAX_ATTEMPTS = 8
RETRY_PAUSE_S = 0.005

R = TypeVar("R")

# The statements verified (and nonces claimed) by the command being run, kept across its attempts.
VERIFIED: ContextVar[dict[str, VerifiedStatement] | None] = ContextVar("membership_verified", default=None)


class Conflict(DomainError):
    """A save lost an optimistic-concurrency race (typed `conflict` if it ever escapes a retry)."""


class Busy(DomainError):
    status = 503


async def retrying(command: Callable[[], Awaitable[R]]) -> R:
    """Run `command` again (from its loads) while its save loses optimistic-concurrency races."""
    token = VERIFIED.set({})
    try:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return await command()
            except Conflict:
                if attempt + 1 < MAX_ATTEMPTS:
                    await asyncio.sleep(random.uniform(0, RETRY_PAUSE_S * 2**attempt))  # noqa: S311 (jitter)
        raise Busy(
            "busy",
            f"the records kept changing concurrently through {MAX_ATTEMPTS} attempts; nothing was recorded",
        )
    finally:
        VERIFIED.reset(token)
