"""Retrieval quality on an evaluation set: recall@k and MRR per method, leaks, and latency.

The set is a synthetic community corpus (sources with access rules) and questions naming the
sources that answer them, asked as members with given roles; `tests/knowledge_eval/` holds it.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.knowledge.adapters.embeddings import Embedder
from services.knowledge.domain.access import AccessRule, Viewer
from services.knowledge.index.community_index import CommunityIndex, embedding_text, plan
from services.knowledge.index.sources import Citation, Source
from services.knowledge.retrieval import Method, retrieve


@dataclass(frozen=True)
class Question:
    text: str
    expect: tuple[str, ...]
    viewer: Viewer
    forbidden: tuple[str, ...] = ()


@dataclass
class MethodScore:
    recall_at_k: float
    mrr: float
    leaks: int
    latency_ms: dict[str, float]
    misses: list[str] = field(default_factory=list)


def load_corpus(path: Path, embedder: Embedder | None) -> tuple[CommunityIndex, float]:
    """The corpus as one community's index; returns it and the seconds spent embedding."""
    corpus = json.loads(path.read_text())
    community = corpus["community"]
    index = CommunityIndex(community, embedder.dimension if embedder is not None else 0)
    index.categories.read_roles.update({k: tuple(v) for k, v in corpus["categories"].items()})
    spent = 0.0
    for seq, item in enumerate(corpus["sources"], start=1):
        rule_fields = item.get("rule", {})
        rule = AccessRule(
            roles=tuple(sorted(rule_fields.get("roles", ()))),
            types=tuple(sorted(rule_fields.get("types", ()))),
            tags=tuple(sorted(rule_fields.get("tags", ()))),
            category=rule_fields.get("category", ""),
        )
        kind = item["kind"]
        citation = Citation("EVAL", f"eval.{community}.{kind}.{seq}", seq, f"c{seq}", "eval", kind, 0)
        heading = item["title"] if kind == "post" else ""
        source = Source(
            item["key"], community, kind, item["title"], item["text"], item["author"], rule, citation, heading
        )
        vectors = None
        if embedder is not None:
            started = time.perf_counter()
            vectors = embedder.embed([embedding_text(h, b) for h, b in plan(source)])
            spent += time.perf_counter() - started
        index.put(source, vectors)
    return index, spent


def load_questions(path: Path) -> list[Question]:
    out = []
    for n, item in enumerate(json.loads(path.read_text())["questions"]):
        who = item.get("as", {})
        viewer = Viewer(
            did=f"did:key:zEval{n}",
            standing="active",
            roles=frozenset(who.get("roles", ["member"])),
            membership_type=who.get("type", ""),
        )
        out.append(Question(item["q"], tuple(item["expect"]), viewer, tuple(item.get("forbidden", ()))))
    return out


def evaluate(
    index: CommunityIndex, questions: list[Question], embedder: Embedder | None, method: Method, k: int = 5
) -> MethodScore:
    recalls: list[float] = []
    ranks: list[float] = []
    latencies: list[float] = []
    leaks = 0
    misses: list[str] = []
    for question in questions:
        started = time.perf_counter()
        hits = retrieve(index, question.viewer, question.text, embedder, method, k)
        latencies.append((time.perf_counter() - started) * 1000)
        keys = [hit.source.key for hit in hits]
        leaks += sum(1 for key in keys if key in question.forbidden)
        if not question.expect:
            continue
        found = [key for key in question.expect if key in keys]
        recalls.append(len(found) / len(question.expect))
        rank = next((i for i, key in enumerate(keys, start=1) if key in question.expect), None)
        ranks.append(1.0 / rank if rank else 0.0)
        if not found:
            misses.append(question.text)
    latencies.sort()
    return MethodScore(
        recall_at_k=round(statistics.fmean(recalls), 4),
        mrr=round(statistics.fmean(ranks), 4),
        leaks=leaks,
        latency_ms={
            "median": round(statistics.median(latencies), 3),
            "p95": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 3),
        },
        misses=misses,
    )


def report(corpus: Path, questions_path: Path, embedder: Embedder | None, k: int = 5) -> dict[str, Any]:
    """Every method on the set; dense and hybrid only when a model is available."""
    index, embed_s = load_corpus(corpus, embedder)
    questions = load_questions(questions_path)
    methods = [Method.bm25] + ([Method.dense, Method.hybrid] if embedder is not None else [])
    scores = {m.value: evaluate(index, questions, embedder, m, k) for m in methods}
    return {
        "sources": len(index.sources),
        "chunks": index.chunk_count,
        "questions": len(questions),
        "k": k,
        "embedding_s": round(embed_s, 3),
        "methods": {
            name: {
                f"recall@{k}": s.recall_at_k,
                "mrr": s.mrr,
                "leaks": s.leaks,
                "latency_ms": s.latency_ms,
                "misses": s.misses,
            }
            for name, s in scores.items()
        },
    }
