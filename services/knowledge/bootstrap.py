"""Composition root of the knowledge service: streams, index, embeddings, roster, router."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from nats.aio.client import Client as NATS

from services.governance.subjects import SUBJECTS as GOVERNANCE
from services.knowledge.adapters.embeddings import (
    CachedEmbedder,
    Embedder,
    EmbeddingUnavailable,
    shared_embedder,
)
from services.knowledge.adapters.llm import ChatEndpoint
from services.knowledge.adapters.roster import NatsRoster, Roster
from services.knowledge.config import KnowledgeSettings
from services.knowledge.entrypoints import build_router
from services.knowledge.handlers import KnowledgeHandlers
from services.knowledge.index.indexer import Indexer
from services.knowledge.subjects import SUBJECTS as KNOWLEDGE
from services.messaging.subjects import SUBJECTS as MESSAGING
from shared.commands import CommandRouter
from shared.jetstream.store import EventStore
from shared.jetstream.streams import StreamSettings
from shared.signing import SigningKey
from shared.statements import NonceRegistry, Nonces

log = logging.getLogger(__name__)


@dataclass
class KnowledgeService:
    handlers: KnowledgeHandlers
    indexer: Indexer
    router: CommandRouter
    stores: dict[str, EventStore] = field(default_factory=dict)
    readers: dict[str, EventStore] = field(default_factory=dict)
    embedder: CachedEmbedder | None = None
    owns_embedder: bool = False

    async def stop(self) -> None:
        await self.router.stop()
        await self.indexer.stop()
        for store in [*self.stores.values(), *self.readers.values()]:
            await store.close()
        if self.embedder is not None and self.owns_embedder:
            await asyncio.to_thread(self.embedder.close)


def default_embedder(data_dir: Path | None) -> CachedEmbedder | None:
    """The packaged MiniLM model behind an on-disk vector cache; None (BM25 only) if absent."""
    try:
        model: Embedder = shared_embedder()
    except EmbeddingUnavailable as exc:
        log.warning("dense retrieval is off: %s", exc)
        return None
    return CachedEmbedder(model, None if data_dir is None else data_dir / "vectors.sqlite")


async def start_knowledge(
    nc: NATS,
    nats_url: str,
    data_dir: Path | None,
    settings: KnowledgeSettings | None = None,
    *,
    roster: Roster | None = None,
    nonces: Nonces | None = None,
    embedder: CachedEmbedder | None = None,
    dense: bool = True,
) -> KnowledgeService:
    """Start on JetStream; `roster` and `nonces` accept fakes, `dense=False` runs BM25 only."""
    settings = settings or KnowledgeSettings.from_env()
    key = (
        SigningKey.load_or_create(data_dir / "keys" / "knowledge-instance.seed")
        if data_dir is not None
        else SigningKey.generate()
    )
    stores: dict[str, EventStore] = {}
    readers: dict[str, EventStore] = {}
    for subjects in (MESSAGING, GOVERNANCE, KNOWLEDGE):
        stream = StreamSettings(subjects)
        stores[subjects.stream] = await EventStore(nc, stream, key).start()
        # The indexer verifies each commit itself, so one forged message is skipped, not fatal.
        readers[subjects.stream] = await EventStore(nc, stream, key, verify_reads=False).start(
            provision=False
        )
    owns_embedder = dense and embedder is None
    if owns_embedder:
        embedder = await asyncio.to_thread(default_embedder, data_dir)
    vectors = embedder if dense else None
    indexer = Indexer(vectors, settings.communities)
    llm = (
        ChatEndpoint(settings.llm_url, settings.llm_model, settings.llm_timeout_s)
        if settings.llm_url
        else None
    )
    handlers = KnowledgeHandlers(
        stores["KNOWLEDGE"],
        indexer,
        roster or NatsRoster(nc, settings.membership_timeout_s),
        nonces or await NonceRegistry.open(nc),
        settings,
        vectors,
        llm,
    )
    indexer.start(readers)
    router = build_router(handlers)
    await router.start(nc)
    return KnowledgeService(handlers, indexer, router, stores, readers, embedder, owns_embedder)


async def start(nc: NATS, nats_url: str, data_dir: Path) -> KnowledgeService:
    """What `cos run` calls."""
    return await start_knowledge(nc, nats_url, data_dir)
