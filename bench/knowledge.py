"""Know retrieval quality and speed: recall@5 and MRR for BM25, dense and hybrid, and query latency.

Usage: `cos bench knowledge [--set DIR] [--scale N] [--json]`. Runs the committed evaluation set
(`tests/knowledge_eval/`: a synthetic community corpus and questions with expected sources, asked
as members with given roles) through the same index and permission filter the service uses, then
repeats the queries over the corpus copied N times to show how latency grows with the index.
Prints one JSON object on the last line; leaks (a forbidden source among the results) must be 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from services.knowledge.adapters.embeddings import Embedder, EmbeddingUnavailable, MiniLmOnnx
from services.knowledge.evaluation import load_corpus, load_questions, report
from services.knowledge.index.community_index import embedding_text, plan
from services.knowledge.retrieval import Method, retrieve

DEFAULT_SET = Path(__file__).resolve().parents[1] / "tests" / "knowledge_eval"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", type=Path, default=DEFAULT_SET, help="folder with corpus.json, questions.json"
    )
    parser.add_argument("--scale", type=int, default=20, help="copies of the corpus for the latency run")
    parser.add_argument("--json", action="store_true", help="only the JSON result line")


def _model() -> tuple[Embedder | None, float, str]:
    started = time.perf_counter()
    try:
        model: Embedder = MiniLmOnnx()
    except EmbeddingUnavailable as exc:
        return None, 0.0, str(exc)
    return model, time.perf_counter() - started, ""


def _throughput(model: Embedder, texts: list[str]) -> float:
    model.embed(texts[:4])  # warm the session
    started = time.perf_counter()
    model.embed(texts)
    return len(texts) / (time.perf_counter() - started)


def _scaled_latency(corpus: Path, questions: Path, model: Embedder | None, copies: int) -> dict[str, Any]:
    index, _ = load_corpus(corpus, model)
    originals = list(index.sources.values())
    vectors_of: dict[str, Any] = {}
    for source in originals:
        texts = [embedding_text(h, b) for h, b in plan(source)]
        vectors_of[source.key] = model.embed(texts) if model is not None else None
    for n in range(1, copies):
        for source in originals:  # same text, new keys: a bigger index with the same rules
            index.put(replace(source, key=f"{source.key}#{n}"), vectors_of[source.key])
    asked = load_questions(questions)
    out: dict[str, Any] = {"chunks": index.chunk_count}
    methods = [Method.bm25] + ([Method.dense, Method.hybrid] if model is not None else [])
    vectors = model.embed([q.text for q in asked]) if model is not None else None
    for method in methods:
        timings = []
        for i, question in enumerate(asked):
            started = time.perf_counter()
            retrieve(
                index,
                question.viewer,
                question.text,
                model,
                method,
                5,
                None if vectors is None else vectors[i],
            )
            timings.append((time.perf_counter() - started) * 1000)
        out[method.value] = {
            "median_ms": round(statistics.median(timings), 3),
            "max_ms": round(max(timings), 3),
        }
    return out


def execute(args: argparse.Namespace) -> int:
    corpus, questions = args.set / "corpus.json", args.set / "questions.json"
    if not (corpus.is_file() and questions.is_file()):
        # The installed package (the image) has no tests/: the set is a folder of the repository.
        print(
            f"cos bench knowledge: no evaluation set in {args.set} (it needs corpus.json and "
            "questions.json); pass --set FOLDER, e.g. a checkout's tests/knowledge_eval",
            file=sys.stderr,
        )
        return 2
    model, load_s, why = _model()
    result: dict[str, Any] = {
        "model": model.model_id if model is not None else None,
        "model_load_s": round(load_s, 3),
    }
    if why:
        result["dense_off"] = why
    result |= report(corpus, questions, model)
    if model is not None:
        texts = [q.text for q in load_questions(questions)] * 4
        result["embed_per_s"] = round(_throughput(model, texts), 1)
        encode_ms = statistics.median(_time_one(model, q.text) for q in load_questions(questions))
        result["query_embed_ms"] = round(encode_ms, 3)
    baseline = result["methods"]["bm25"]["latency_ms"]["median"] or 1e-6
    result["latency_vs_bm25"] = {
        name: round(m["latency_ms"]["median"] / baseline, 1) for name, m in result["methods"].items()
    }
    result["scaled"] = _scaled_latency(corpus, questions, model, max(1, args.scale))
    if not args.json:
        sizes = f"{result['sources']} sources, {result['chunks']} chunks, {result['questions']} questions"
        print(f"evaluation set: {sizes}; latency includes embedding the question")
        for name, s in result["methods"].items():
            quality = f"recall@5 {s['recall@5']:.3f}  MRR {s['mrr']:.3f}  leaks {s['leaks']}"
            ratio = result["latency_vs_bm25"][name]
            print(f"  {name:6} {quality}  median {s['latency_ms']['median']:.2f} ms ({ratio}x BM25)")
        if model is not None:
            speed = f"{result['embed_per_s']:.0f} questions/s, one question {encode_ms:.1f} ms"
            print(f"model load {load_s:.2f} s, {speed}")
        scaled = result["scaled"]
        medians = ", ".join(f"{m} {v['median_ms']:.2f} ms" for m, v in scaled.items() if isinstance(v, dict))
        print(f"scaled index: {scaled['chunks']} chunks, search only (question embedded before): {medians}")
    print(json.dumps(result))
    return 0 if all(s["leaks"] == 0 for s in result["methods"].values()) else 1


def _time_one(model: Embedder, text: str) -> float:
    started = time.perf_counter()
    model.embed([text])
    return (time.perf_counter() - started) * 1000
