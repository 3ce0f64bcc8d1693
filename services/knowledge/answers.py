"""Answers with citations: quoted passages by default; a generated answer grounded only in the
passages the member may read when the operator configured an OpenAI-compatible endpoint."""

from __future__ import annotations

import re
from typing import Any

from services.knowledge.adapters.llm import ChatEndpoint, GenerationFailed, Passage, build_messages
from services.knowledge.index.community_index import Hit, query_terms
from services.knowledge.retrieval import describe_source

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_CITED = re.compile(r"\[(\d{1,3})\]")
QUOTE_CHARS = 400
NO_ANSWER = "Nothing you may read in this community's knowledge answers this question."


def best_quote(text: str, question: str) -> str:
    """The sentence (and its neighbour, when short) sharing most words with the question."""
    sentences = [s.strip() for s in _SENTENCES.split(text) if s.strip()]
    if not sentences:
        return text[:QUOTE_CHARS]
    terms = {t[:6] for t in query_terms(question)}

    def overlap(sentence: str) -> int:
        return len(terms & {t[:6] for t in query_terms(sentence)})

    best = max(range(len(sentences)), key=lambda i: (overlap(sentences[i]), -i))
    quote = sentences[best]
    if len(quote) < 120 and best + 1 < len(sentences):
        quote = f"{quote} {sentences[best + 1]}"
    return quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1].rstrip() + "…"


def passages_view(hits: list[Hit], question: str) -> list[dict[str, Any]]:
    return [
        {
            "n": n,
            "quote": best_quote(hit.text, question),
            "heading": hit.heading,
            "text": hit.text,
            "score": round(hit.score, 6),
            "source": describe_source(hit.source),
        }
        for n, hit in enumerate(hits, start=1)
    ]


def extractive(question: str, hits: list[Hit], limit: int = 3) -> dict[str, Any]:
    passages = passages_view(hits, question)
    shown = passages[:limit]
    answer = "\n\n".join(f"> {p['quote']} [{p['n']}]" for p in shown) if shown else NO_ANSWER
    return {
        "question": question,
        "mode": "extractive",
        "answer": answer,
        "citations": [p["n"] for p in shown],
        "passages": passages,
    }


async def generated(question: str, hits: list[Hit], endpoint: ChatEndpoint) -> dict[str, Any]:
    """Grounded generation; on any endpoint failure the extractive answer, with the reason."""
    if not hits:
        return extractive(question, hits)
    prompt = [Passage(n, hit.heading, hit.text) for n, hit in enumerate(hits, start=1)]
    try:
        text = await endpoint.complete(build_messages(question, prompt))
    except GenerationFailed as exc:
        fallback = extractive(question, hits)
        fallback["generation_error"] = str(exc)
        return fallback
    cited = sorted({int(n) for n in _CITED.findall(text) if 1 <= int(n) <= len(hits)})
    return {
        "question": question,
        "mode": "generated",
        "model": endpoint.model,
        "answer": text,
        "citations": cited,
        "passages": passages_view(hits, question),
    }
