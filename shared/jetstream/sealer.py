"""Signs envelopes on a worker thread in batches, so Ed25519 signing overlaps the event loop's work.

libsodium releases the GIL while it signs, so one signer thread gives appends a second core.
Bodies queue while a batch is being signed; the next batch takes all of them at once, so the
hand-off cost is paid per batch, not per commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor

from shared.envelope import Body, seal
from shared.signing import SigningKey

__all__ = ["Sealer"]


def _seal_many(bodies: Sequence[Body], key: SigningKey) -> list[bytes | Exception]:
    out: list[bytes | Exception] = []
    for body in bodies:
        try:
            out.append(seal(body, key))
        except Exception as exc:  # noqa: BLE001 - handed back to the caller that asked for it
            out.append(exc)
    return out


class Sealer:
    """`await sealer.seal(body)` returns the signed envelope bytes, sealed on a signer thread."""

    def __init__(
        self,
        key: SigningKey,
        executor: Executor | None = None,
        max_batch: int = 512,
        *,
        threaded: bool = False,
    ):
        self.key = key
        self.threaded = threaded
        self._own_executor = executor is None
        self._executor = executor or ThreadPoolExecutor(1, thread_name_prefix="cos-signer")
        self._max_batch = max_batch
        self._queue: list[tuple[Body, asyncio.Future[bytes]]] = []
        self._draining = False
        self._drainer: asyncio.Task[None] | None = None

    async def seal(self, body: Body) -> bytes:
        if not self.threaded:
            return seal(body, self.key)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bytes] = loop.create_future()
        self._queue.append((body, future))
        if not self._draining:
            self._draining = True
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                try:
                    results = await loop.run_in_executor(
                        self._executor, _seal_many, [body for body, _ in batch], self.key
                    )
                except BaseException as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    raise
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._draining = False

    def close(self) -> None:
        if self._own_executor:
            self._executor.shutdown(wait=False)
