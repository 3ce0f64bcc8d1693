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
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()  # the thread that ran the loop closes it, whoever asked it to stop

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

    def stop(self, final: Coroutine[Any, Any, Any] | None = None) -> None:
        """Run `final` (e.g. closing the connection), cancel whatever still runs (callers get
        LoopClosedError), then end the loop. Safe from any thread, the loop's own included."""
        if self.loop.is_closed() or self._stopping:
            if final is not None:
                final.close()
            return
        self._stopping = True
        if threading.get_ident() == self._thread.ident:
            # Called from the loop itself (e.g. a finaliser): finish asynchronously.
            self.loop.create_task(self._finish(final, stop_loop=True))
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._finish(final), self.loop).result(15)
        # Stop only after the result came back: stopping inside would strand this thread's wait.
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)

    async def _finish(self, final: Coroutine[Any, Any, Any] | None, *, stop_loop: bool = False) -> None:
        if final is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(final, 10)
        await self._cancel_all()
        if stop_loop:
            asyncio.get_running_loop().stop()
