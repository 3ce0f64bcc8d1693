"""Waiting for eventually-consistent read models in tests, without timing assertions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], T], within: float = 10.0, every: float = 0.05) -> T:
    """The first truthy result of `check()`, polled until `within` seconds have passed (then the
    last result, so the caller's assertion shows what the read model held)."""
    result = check()
    for _ in range(max(1, int(within / every))):
        if result:
            return result
        await asyncio.sleep(every)
        result = check()
    return result


async def eventually_async(check: Callable[[], Awaitable[T]], within: float = 10.0, every: float = 0.05) -> T:
    """Like `eventually`, for checks that must await (an HTTP call, a NATS request)."""
    result = await check()
    for _ in range(max(1, int(within / every))):
        if result:
            return result
        await asyncio.sleep(every)
        result = await check()
    return result
