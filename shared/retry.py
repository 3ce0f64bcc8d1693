"""Optimistic-concurrency conflicts are a service's own business, never the caller's.

A signed command loads aggregates, decides and saves. When another request, replica or the
service's own scheduler committed to one of them first, the save raises `Conflict`; `retrying`
then runs the command again from its loads, so it decides on the fresh state and may now be refused
for a real reason. The member's statement is verified and its nonce claimed once: a retry is not a
replay (`remembered` / `remember`). After MAX_ATTEMPTS lost races the command is refused as `busy`
(503), nothing recorded.

A command that saves in steps (close a poll, then record its count), or acts outside its records
before it saves (a mail, a chat opened in another service), is run again only while none of that has
happened: once it has (`saved`, `acted`), a later conflict is no longer the command's to redo, and it
is answered as the typed `conflict` it is.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

from shared.domain import DomainError
from shared.statements import VerifiedStatement

MAX_ATTEMPTS = 8
RETRY_PAUSE_S = 0.005

R = TypeVar("R")


class Conflict(DomainError):
    """A save lost an optimistic-concurrency race (typed `conflict` if it ever escapes a retry)."""


class Busy(DomainError):
    status = 503


@dataclass
class _Run:
    verified: dict[str, VerifiedStatement] = field(default_factory=dict)
    saved: bool = False  # the current attempt has recorded something


_RUN: ContextVar[_Run | None] = ContextVar("retrying_run", default=None)


def remembered(action: str) -> VerifiedStatement | None:
    """The statement for `action` that an earlier attempt of this command verified, if any."""
    run = _RUN.get()
    return None if run is None else run.verified.get(action)


def remember(action: str, statement: VerifiedStatement) -> None:
    if (run := _RUN.get()) is not None:
        run.verified[action] = statement


def saved() -> None:
    """Note that the current attempt recorded a commit: it is not run again after that."""
    if (run := _RUN.get()) is not None:
        run.saved = True


def acted() -> None:
    """Note that the current attempt did what cannot be taken back outside its own records (sent a
    mail, opened a chat in another service): like a recorded step, it is not run again after that."""
    saved()


async def retrying(command: Callable[[], Awaitable[R]]) -> R:
    """Run `command` again (from its loads) while its save loses optimistic-concurrency races."""
    run = _Run()
    token = _RUN.set(run)
    try:
        for attempt in range(MAX_ATTEMPTS):
            run.saved = False
            try:
                return await command()
            except Conflict:
                if run.saved:
                    raise
                if attempt + 1 < MAX_ATTEMPTS:
                    await asyncio.sleep(random.uniform(0, RETRY_PAUSE_S * 2**attempt))  # noqa: S311 (jitter)
        raise Busy(
            "busy",
            f"the records kept changing concurrently through {MAX_ATTEMPTS} attempts; nothing was recorded",
        )
    finally:
        _RUN.reset(token)


C = TypeVar("C")


def retried(handler: Callable[[C], Awaitable[R]]) -> Callable[[C], Awaitable[R]]:
    """`handler` as a service's router runs a signed command: `retrying` its lost races."""

    async def run(command: C) -> R:
        return await retrying(lambda: handler(command))

    return run
