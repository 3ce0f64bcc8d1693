"""Permission-aware retrieval: the asking member's standing becomes a rule filter that BM25 and
the vector search apply while generating candidates, then the rankings are fused."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np

from services.knowledge.adapters.embeddings import Embedder
from services.knowledge.domain.access import Viewer
from services.knowledge.index.community_index import CommunityIndex, Hit
from services.knowledge.index.sources import Source

MAX_PER_SOURCE = 2


class Method(StrEnum):
    hybrid = "hybrid"
    bm25 = "bm25"
    dense = "dense"


def retrieve(
    index: CommunityIndex | None,
    viewer: Viewer,
    question: str,
    embedder: Embedder | None,
    method: Method = Method.hybrid,
    limit: int = 5,
    query_vector: Any = None,
) -> list[Hit]:
    """The best passages `viewer` may read, at most MAX_PER_SOURCE from one source."""
    if index is None:
        return []
    rules = index.readable_rules(viewer)
    if not rules:
        return []
    if method is not Method.bm25 and embedder is None:
        method = Method.bm25  # no model installed: lexical only, never an error
    if method is Method.bm25:
        hits = index.bm25(question, rules)
    else:
        vector = query_vector if query_vector is not None else embedder.embed([question])[0]  # type: ignore[union-attr]
        vector = np.asarray(vector, dtype=np.float32)
        hits = index.dense(vector, rules) if method is Method.dense else index.hybrid(question, vector, rules)
    per_source: dict[str, int] = {}
    out: list[Hit] = []
    for hit in hits:
        seen = per_source.get(hit.source.key, 0)
        if seen >= MAX_PER_SOURCE:
            continue
        per_source[hit.source.key] = seen + 1
        out.append(hit)
        if len(out) >= limit:
            break
    return out


def describe_source(source: Source) -> dict[str, Any]:
    c = source.citation
    return {
        "key": source.key,
        "kind": source.kind,
        "title": source.title,
        "author": source.author,
        "citation": {
            "stream": c.stream,
            "subject": c.subject,
            "seq": c.seq,
            "commit_id": c.commit_id,
            "signer": c.signer,
            "event": c.topic,
            "timestamp_ns": c.timestamp_ns,
        },
    }
