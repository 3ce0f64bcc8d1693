"""Keeps every community's index level with the signed commits of MESSAGING, GOVERNANCE and
KNOWLEDGE: one ordered consumer per stream, from sequence 1 (vectors come from the cache)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

from services.knowledge.adapters.embeddings import Embedder, Vectors
from services.knowledge.domain.access import CategoryRoles
from services.knowledge.index.community_index import CommunityIndex, embedding_text, plan
from services.knowledge.index.contract import (
    CategoryRead,
    Forget,
    Memory,
    Operation,
    Put,
    Restore,
    ThreadTitle,
    Undecodable,
    Withdraw,
    decode_commit,
)
from services.knowledge.index.sources import Source
from shared.envelope import EnvelopeError, open_envelope
from shared.jetstream.store import EventStore, StoredCommit

log = logging.getLogger(__name__)
STREAMS = ("MESSAGING", "GOVERNANCE", "KNOWLEDGE")
STOP_ATTEMPTS = 20


class Indexer:
    def __init__(self, embedder: Embedder | None, communities: tuple[str, ...] = ()) -> None:
        self.embedder = embedder
        self.communities = communities
        self.indexes: dict[str, CommunityIndex] = {}
        self.positions: dict[str, int] = dict.fromkeys(STREAMS, 0)
        self.skipped: Counter[str] = Counter()
        self._memory = Memory()
        self._moved = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def index(self, community: str) -> CommunityIndex:
        if community not in self.indexes:
            dimension = self.embedder.dimension if self.embedder is not None else 0
            self.indexes[community] = CommunityIndex(community, dimension)
        return self.indexes[community]

    # -- following the streams -----------------------------------------------------------------

    def start(self, stores: dict[str, EventStore]) -> None:
        # One ordered consumer per stream (other communities' commits are read and passed over),
        # so a position is one stream sequence and read-your-writes is a simple comparison.
        for stream, store in stores.items():
            self._tasks.append(asyncio.create_task(self._follow(stream, store, store.subjects.commits)))

    async def _follow(self, stream: str, store: EventStore, subject: str) -> None:
        # The flag, not only the cancellation, ends the loop: a subscription that ends or fails
        # while the service stops must not be taken for a stream to resume.
        while not self._stopping:
            commits = store.subscribe(self.positions[stream] + 1, subject=subject)
            try:
                async for stored in commits:
                    try:
                        await self.apply(stream, stored)
                    except Exception:  # one bad commit never stops the index; it is counted
                        self.skipped["failed"] += 1
                        log.exception("%s#%d could not be indexed; skipped", stream, stored.seq)
                        await self._advance(stream, stored.seq)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._stopping:
                    return
                log.exception("following %s failed; resuming", stream)
                await asyncio.sleep(1.0)
            finally:  # unsubscribe now, not whenever the generator is collected
                close = getattr(commits, "aclose", None)  # an async generator underneath
                if close is not None:
                    with contextlib.suppress(Exception):
                        await close()

    async def stop(self) -> None:
        self._stopping = True
        pending = set(self._tasks)
        # Cancel again while needed: nats-py swallows a CancelledError that lands while it flushes
        # a command (Client._flush_pending), e.g. while a subscription is being set up.
        for _ in range(STOP_ATTEMPTS):
            if not pending:
                break
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=0.5)
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("indexer task ended with %r", task.exception())
        if pending:
            log.warning("%d indexer tasks did not stop", len(pending))
        self._tasks.clear()
        for index in self.indexes.values():
            index.close()

    async def wait_for(self, stream: str, seq: int, within: float) -> bool:
        """Whether the commit at `seq` of `stream` is searchable within `within` seconds."""

        async def reached() -> None:
            async with self._moved:
                await self._moved.wait_for(lambda: self.positions[stream] >= seq)

        try:
            await asyncio.wait_for(reached(), within)
        except TimeoutError:
            return False
        return True

    # -- applying ------------------------------------------------------------------------------

    async def apply(self, stream: str, stored: StoredCommit) -> None:
        wanted = not self.communities or stored.commit.community in self.communities
        if stored.seq > self.positions[stream] and wanted and self._verified(stream, stored):
            try:
                operations = decode_commit(stored, stream, self._memory)
            except Undecodable as exc:
                self.skipped["undecodable"] += 1
                log.warning("%s#%d skipped: %s", stream, stored.seq, exc)
                operations = []
            for operation in operations:
                await self._apply(operation)
        await self._advance(stream, stored.seq)

    def _verified(self, stream: str, stored: StoredCommit) -> bool:
        """Only commits whose signature holds over the stored bytes are indexed (and cited)."""
        try:
            open_envelope(stored.data)
        except EnvelopeError as exc:
            self.skipped["unverifiable"] += 1
            log.warning("%s#%d not indexed: %s", stream, stored.seq, exc)
            return False
        return True

    async def _advance(self, stream: str, seq: int) -> None:
        self.positions[stream] = max(self.positions[stream], seq)
        async with self._moved:
            self._moved.notify_all()

    async def _apply(self, op: Operation) -> None:
        if isinstance(op, Put):
            index = self.index(op.source.community)
            key = op.source.key
            if key in index.withdrawn and op.source.citation.topic.endswith("post_edited.v1"):
                index.withdrawn[key] = op.source  # edited while hidden: stays hidden
                return
            index.put(op.source, await self._vectors(op.source))
        elif isinstance(op, Withdraw):
            self.index(op.community).withdraw(op.key)
        elif isinstance(op, Restore):
            index = self.index(op.community)
            source = index.withdrawn.get(op.key)
            if source is not None:
                index.put(source, await self._vectors(source))
        elif isinstance(op, Forget):
            self.index(op.community).forget(op.key)
        elif isinstance(op, CategoryRead):
            categories: CategoryRoles = self.index(op.community).categories
            categories.read_roles[op.category] = op.read_roles
        elif isinstance(op, ThreadTitle):
            pass  # kept in self._memory by the decoder, for replies' headings

    async def _vectors(self, source: Source) -> Vectors | None:
        if self.embedder is None:
            return None
        texts = [embedding_text(h, b) for h, b in plan(source)]
        return await asyncio.to_thread(self.embedder.embed, texts)
