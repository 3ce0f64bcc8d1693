"""Optimistic-concurrency conflicts are the service's own business, never the caller's.

A use case loads aggregates, decides and saves them as one batch; when another request or replica
committed to one of them first, the save fails. `retrying` runs the whole use case again from its
loads (so it decides on the fresh state, and refuses if the fresh state forbids it), a bounded number
of times with a short jittered pause. The caller sees the outcome, or after every attempt lost a
`busy` refusal (503) that says nothing was recorded. Use cases run in worker threads, so the pause
does not hold the event loop.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from shared.domain import DomainError

MAX_ATTEMPTS = 8
RETRY_PAUSE_S = 0.005

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


class Conflict(Exception):
    """A save lost an optimistic-concurrency race; the use case must run again on fresh state."""


class Busy(DomainError):
    status = 503


def retrying(operation: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a load-decide-save use case again (from its loads) while its save loses OCC races."""

    @functools.wraps(operation)
    def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return operation(self, *args, **kwargs)
            except Conflict:
                if attempt + 1 < MAX_ATTEMPTS:
                    time.sleep(random.uniform(0, RETRY_PAUSE_S * 2**attempt))  # noqa: S311 (jitter only)
        raise Busy(
            "busy",
            f"the record kept changing concurrently through {MAX_ATTEMPTS} attempts; nothing was recorded",
        )

    return run
