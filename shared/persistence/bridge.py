"""The sync/async boundary: an asyncio loop on its own thread that owns a NATS connection.

The eventsourcing library calls recorders synchronously, from any thread; nats-py is asyncio.
Rather than start a loop per call (slow, and a NATS connection cannot move between loops) every
synchronous call is submitted to one long-lived loop thread and waited for. Many caller threads
can therefore have requests in flight on one connection at once, which is what gives pipelining.
Calling back into the bridge from its own loop thread would deadlock, so it is refused.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from eventsourcing.persistence import OperationalError

__all__ = ["LoopClosedError", "LoopThread"]

T = TypeVar("T")


class LoopClosedError(OperationalError):
    """The loop thread was stopped (its connection closed) while, or before, a call ran."""


class LoopThread:
    """A daemon thread running an asyncio event loop, with a blocking `run()` for other threads."""

    def __init__(self, name: str = "cos-nats-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._stopping = False
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._started = threading.Event()
        self._thread.start()
        self._started.wait()

    @staticmethod
    async def _cancel_all() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro` on the loop and return a thread-safe future of its result."""
        if self.loop.is_closed() or self._stopping:
            coro.close()
            raise LoopClosedError("the NATS connection has been closed")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coro` on the loop thread and block until it finishes (or `timeout` passes)."""
        if threading.get_ident() == self._thread.ident:
            coro.close()
            raise RuntimeError("synchronous call from the NATS loop thread would deadlock")
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.CancelledError as exc:
            raise LoopClosedError("the NATS connection was closed during the call") from exc
        except concurrent.futures.TimeoutError:
            if not self.loop.is_closed():
                future.cancel()
            raise

    def stop(self) -> None:
        """Cancel whatever still runs on the loop (callers get LoopClosedError), then end it."""
        if self.loop.is_closed():
            return
        self._stopping = True
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._cancel_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
