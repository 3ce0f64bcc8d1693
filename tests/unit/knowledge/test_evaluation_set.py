"""The committed evaluation set through the service's own index, permission filter and model:
quality floors for each method, and no leak of a source the asking member may not read."""

from __future__ import annotations

from pathlib import Path

from services.knowledge.adapters.embeddings import shared_embedder
from services.knowledge.evaluation import report

SET = Path(__file__).parents[2] / "knowledge_eval"


def test_hybrid_retrieval_finds_the_expected_sources_and_leaks_nothing() -> None:
    result = report(SET / "corpus.json", SET / "questions.json", shared_embedder())
    methods = result["methods"]
    assert {name: m["leaks"] for name, m in methods.items()} == {"bm25": 0, "dense": 0, "hybrid": 0}
    assert methods["bm25"]["recall@5"] >= 0.8, methods["bm25"]["misses"]
    assert methods["dense"]["recall@5"] >= 0.9, methods["dense"]["misses"]
    assert methods["hybrid"]["recall@5"] >= 0.95, methods["hybrid"]["misses"]
    assert methods["hybrid"]["mrr"] >= 0.9
    assert methods["hybrid"]["recall@5"] >= methods["bm25"]["recall@5"]
