"""One community's search index: SQLite FTS5 (BM25) and a dense matrix, both filtered by access
rule *inside* candidate generation, so a passage the member may not read is never a candidate."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

import numpy as np

from services.knowledge.adapters.embeddings import Vectors
from services.knowledge.domain.access import AccessRule, CategoryRoles, Viewer, allows
from services.knowledge.domain.chunking import chunk_text
from services.knowledge.index.sources import Source

RRF_K = 60
CANDIDATES = 50
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    )
)


@dataclass(frozen=True)
class Hit:
    chunk: int
    source: Source
    heading: str
    text: str
    score: float


@dataclass
class _Chunks:
    """Dense rows: one per chunk ever added; dead rows are skipped and compacted away."""

    vectors: Vectors = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    rule_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    chunk_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def query_terms(text: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    terms = [w for w in words if w not in STOPWORDS] or words
    return list(dict.fromkeys(terms))[:64]


class CommunityIndex:
    def __init__(self, community: str, dimension: int) -> None:
        self.community = community
        self.dimension = dimension
        self.categories = CategoryRoles()
        self.sources: dict[str, Source] = {}
        self.withdrawn: dict[str, Source] = {}  # hidden or removed, kept so a restore can bring it back
        self._chunks_of: dict[str, list[int]] = {}
        self._chunk_text: dict[int, tuple[str, str, str]] = {}  # chunk -> (source key, heading, text)
        self._rules: dict[str, AccessRule] = {}
        self._rule_ids: dict[str, int] = {}
        self._next_chunk = 1
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE chunks USING fts5("
            "heading, body, source UNINDEXED, rule UNINDEXED,"
            " tokenize='porter unicode61 remove_diacritics 2')"
        )
        self._dense = _Chunks(vectors=np.zeros((0, dimension), dtype=np.float32))
        self._row_of: dict[int, int] = {}

    # -- writing -------------------------------------------------------------------------------

    def put(self, source: Source, vectors: Vectors | None) -> None:
        """Add or replace a source; `vectors` are the embeddings of `plan(source)` in order."""
        self.withdrawn.pop(source.key, None)
        self._drop_chunks(source.key)
        rule_id = self._rule_id(source.rule)
        pieces = plan(source)
        ids: list[int] = []
        with self._db:
            for heading, body in pieces:
                chunk = self._next_chunk
                self._next_chunk += 1
                ids.append(chunk)
                self._chunk_text[chunk] = (source.key, heading, body)
                self._db.execute(
                    "INSERT INTO chunks(rowid, heading, body, source, rule) VALUES (?, ?, ?, ?, ?)",
                    (chunk, heading, body, source.key, source.rule.key),
                )
        if vectors is not None and len(ids):
            self._append_dense(ids, rule_id, vectors)
        self.sources[source.key] = source
        self._chunks_of[source.key] = ids

    def withdraw(self, key: str) -> bool:
        """Hide or remove a source: it stops being retrievable at once; False if unknown."""
        source = self.sources.pop(key, None)
        if source is None:
            return False
        self._drop_chunks(key)
        self.withdrawn[key] = source
        return True

    def forget(self, key: str) -> None:
        """Delete a source for good (a deleted document)."""
        self.withdraw(key)
        self.withdrawn.pop(key, None)

    def _drop_chunks(self, key: str) -> None:
        ids = self._chunks_of.pop(key, [])
        if not ids:
            return
        with self._db:
            self._db.executemany("DELETE FROM chunks WHERE rowid = ?", [(i,) for i in ids])
        for chunk in ids:
            self._chunk_text.pop(chunk, None)
            row = self._row_of.pop(chunk, None)
            if row is not None:
                self._dense.alive[row] = False
        if len(self._row_of) * 2 < len(self._dense.alive) and len(self._dense.alive) > 256:
            self._compact()

    def _rule_id(self, rule: AccessRule) -> int:
        if rule.key not in self._rule_ids:
            self._rule_ids[rule.key] = len(self._rule_ids)
            self._rules[rule.key] = rule
        return self._rule_ids[rule.key]

    def _append_dense(self, ids: list[int], rule_id: int, vectors: Vectors) -> None:
        d = self._dense
        start = len(d.alive)
        d.vectors = np.vstack([d.vectors, vectors.astype(np.float32)])
        d.rule_ids = np.concatenate([d.rule_ids, np.full(len(ids), rule_id, dtype=np.int32)])
        d.alive = np.concatenate([d.alive, np.ones(len(ids), dtype=bool)])
        d.chunk_ids = np.concatenate([d.chunk_ids, np.array(ids, dtype=np.int64)])
        for offset, chunk in enumerate(ids):
            self._row_of[chunk] = start + offset

    def _compact(self) -> None:
        d = self._dense
        keep = np.nonzero(d.alive)[0]
        self._dense = _Chunks(d.vectors[keep], d.rule_ids[keep], d.alive[keep], d.chunk_ids[keep])
        self._row_of = {int(c): i for i, c in enumerate(self._dense.chunk_ids)}

    # -- reading -------------------------------------------------------------------------------

    def readable_rules(self, viewer: Viewer) -> list[str]:
        """The rule keys `viewer` may read in this community, evaluated now."""
        return [key for key, rule in self._rules.items() if allows(rule, viewer, self.categories)]

    def bm25(self, question: str, rules: list[str], limit: int = CANDIDATES) -> list[Hit]:
        terms = query_terms(question)
        if not terms or not rules:
            return []
        match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        marks = ",".join("?" * len(rules))
        rows = self._db.execute(
            "SELECT rowid, bm25(chunks, 2.0, 1.0) AS score FROM chunks "  # noqa: S608 - marks are "?"s
            f"WHERE chunks MATCH ? AND rule IN ({marks}) ORDER BY score LIMIT ?",
            (match, *rules, limit),
        ).fetchall()
        return [self._hit(int(chunk), -float(score)) for chunk, score in rows]

    def dense(self, vector: Vectors, rules: list[str], limit: int = CANDIDATES) -> list[Hit]:
        d = self._dense
        allowed = [self._rule_ids[k] for k in rules if k in self._rule_ids]
        if not allowed or not len(d.alive):
            return []
        rows = np.nonzero(d.alive & np.isin(d.rule_ids, np.array(allowed, dtype=np.int32)))[0]
        if not len(rows):
            return []
        scores = d.vectors[rows] @ vector.astype(np.float32)
        top = np.argsort(-scores, kind="stable")[:limit]
        return [self._hit(int(d.chunk_ids[rows[i]]), float(scores[i])) for i in top]

    def hybrid(self, question: str, vector: Vectors, rules: list[str], limit: int = CANDIDATES) -> list[Hit]:
        """Reciprocal rank fusion of the BM25 and dense rankings (both already filtered)."""
        fused: dict[int, float] = {}
        hits: dict[int, Hit] = {}
        for ranking in (self.bm25(question, rules), self.dense(vector, rules)):
            for rank, hit in enumerate(ranking):
                fused[hit.chunk] = fused.get(hit.chunk, 0.0) + 1.0 / (RRF_K + rank + 1)
                hits.setdefault(hit.chunk, hit)
        order = sorted(fused, key=lambda c: (-fused[c], c))[:limit]
        return [Hit(c, hits[c].source, hits[c].heading, hits[c].text, fused[c]) for c in order]

    def _hit(self, chunk: int, score: float) -> Hit:
        key, heading, text = self._chunk_text[chunk]
        return Hit(chunk, self.sources[key], heading, text, score)

    @property
    def chunk_count(self) -> int:
        return len(self._chunk_text)

    def close(self) -> None:
        self._db.close()


def plan(source: Source) -> list[tuple[str, str]]:
    """The (heading, text) passages a source is indexed as; embeddings follow the same order."""
    top = source.heading or source.title
    out = []
    for c in chunk_text(source.text, top):
        heading = c.heading or top
        out.append((heading if heading == top or not top else f"{top} / {heading}", c.text))
    return out


def embedding_text(heading: str, body: str) -> str:
    return f"{heading}\n{body}" if heading else body
