"""The community index filters inside candidate generation, and the content contract decodes
other services' events as plain maps."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator

import msgspec
import numpy as np

from services.knowledge.answers import best_quote, extractive
from services.knowledge.domain.access import AccessRule, Viewer
from services.knowledge.index.community_index import CommunityIndex, embedding_text, plan
from services.knowledge.index.contract import (
    CategoryRead,
    Forget,
    Memory,
    Put,
    Restore,
    Withdraw,
    decode_commit,
)
from services.knowledge.index.indexer import Indexer
from services.knowledge.index.sources import Citation, Source
from services.knowledge.retrieval import Method, retrieve
from services.messaging.subjects import SUBJECTS as MESSAGING
from shared.envelope import Commit, EventRecord
from shared.jetstream.store import StoredCommit

DIM = 64


class HashingEmbedder:
    """A deterministic bag-of-words embedder: enough to exercise the dense path without a model."""

    model_id = "hashing-64"
    dimension = DIM

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.clip(norms, 1e-9, None)


CITE = Citation("KNOWLEDGE", "knowledge.c.document.x", 1, "c1", "key", "knowledge.document_added.v1", 0)
MEMBER = Viewer("did:key:zBea", "active", frozenset({"member"}))
BOARD = Viewer("did:key:zCem", "active", frozenset({"member", "board"}))


def source(key: str, text: str, rule: AccessRule, title: str = "") -> Source:
    return Source(key, "c", "document", title or key, text, "did:key:zAda", rule, CITE)


def build(*sources: Source) -> tuple[CommunityIndex, HashingEmbedder]:
    embedder = HashingEmbedder()
    index = CommunityIndex("c", DIM)
    for s in sources:
        index.put(s, embedder.embed([embedding_text(h, b) for h, b in plan(s)]))
    return index, embedder


def test_candidates_come_only_from_readable_rules_even_when_the_rest_ranks_higher() -> None:
    secret = "caretaker settlement caretaker settlement caretaker settlement amount"
    restricted = [source(f"secret{i}", secret, AccessRule.for_roles(["board"])) for i in range(60)]
    public = source("public", "The caretaker starts in June; no settlement news.", AccessRule.everyone())
    index, embedder = build(*restricted, public)
    for method in Method:
        member_hits = retrieve(index, MEMBER, "caretaker settlement amount", embedder, method, limit=5)
        assert [h.source.key for h in member_hits] == ["public"], method  # not lost behind 60 better ones
        board_hits = retrieve(index, BOARD, "caretaker settlement amount", embedder, method, limit=5)
        assert len(board_hits) == 5
        assert all(h.source.key.startswith("secret") for h in board_hits), method
    outsider = Viewer("did:key:zOut", "unknown")
    assert retrieve(index, outsider, "caretaker", embedder, Method.hybrid) == []


def test_withdrawn_sources_leave_both_indexes_and_a_restore_brings_them_back() -> None:
    a = source("a", "Compost rota: the Garcia family this week.", AccessRule.everyone())
    b = source("b", "Choir practice on Thursdays.", AccessRule.everyone())
    index, embedder = build(a, b)
    assert index.withdraw("a")
    for method in Method:
        assert "a" not in [h.source.key for h in retrieve(index, MEMBER, "compost Garcia", embedder, method)]
    index.put(index.withdrawn["a"], embedder.embed([embedding_text(h, t) for h, t in plan(a)]))
    assert retrieve(index, MEMBER, "compost Garcia", embedder, Method.bm25)[0].source.key == "a"
    index.forget("a")
    assert "a" not in index.withdrawn
    assert index.chunk_count == 1


def test_dead_rows_are_compacted_without_losing_live_ones() -> None:
    index, embedder = build(
        *(source(f"s{i}", f"note number {i} about bikes", AccessRule.everyone()) for i in range(400))
    )
    for i in range(300):
        index.forget(f"s{i}")
    hits = retrieve(index, MEMBER, "note number 399 about bikes", embedder, Method.dense, limit=20)
    assert hits
    assert all(int(h.source.key[1:]) >= 300 for h in hits)


def test_extractive_answers_quote_the_best_sentence_and_cite_it() -> None:
    text = "The workshop has tools. Dues are 40 euros a year, paid in March. Bring tubes."
    assert best_quote(text, "How much are the dues?").startswith("Dues are 40 euros")
    index, embedder = build(source("h", text, AccessRule.everyone(), "Handbook"))
    answer = extractive("How much are the dues?", retrieve(index, MEMBER, "dues", embedder, Method.bm25))
    assert answer["answer"].startswith("> Dues are 40 euros")
    assert answer["citations"] == [1]
    assert answer["passages"][0]["source"]["citation"]["seq"] == 1


def commit(topic: str, fields: dict[str, object], subject: str = "messaging.river.post.p1") -> StoredCommit:
    state = msgspec.msgpack.encode({"type": topic, "originator_version": 1} | fields)
    body = Commit(
        commit_id="c1", community="river", subject=subject, originator_id="river.post.p1",
        originator_id_kind="str", first_version=1, last_version=1, event_types=[topic],
        timestamp_ns=7, signer="ed25519:abc", events=[EventRecord(topic, 1, state)],
    )  # fmt: skip
    return StoredCommit(42, subject, body, b"")


def test_the_contract_decodes_posts_categories_moderation_and_outcomes() -> None:
    titles = Memory()
    post = {
        "post": "p1",
        "thread": "t1",
        "category": "garden",
        "title": "Compost",
        "body": "Rota",
        "by": "did:a",
    }
    ops = decode_commit(commit("messaging.post_created.v1", post), "MESSAGING", titles)
    put = ops[-1]
    assert isinstance(put, Put)
    assert (put.source.key, put.source.rule.key, put.source.citation.seq) == (
        "post:p1",
        "category:garden",
        42,
    )
    reply = post | {"post": "p2", "title": ""}
    (reply_put,) = decode_commit(commit("messaging.post_created.v1", reply), "MESSAGING", titles)
    assert isinstance(reply_put, Put)
    assert reply_put.source.heading == "Compost"
    hidden = {"post": "p1", "thread": "t1", "category": "garden", "by": "did:m", "reason": "spam"}
    assert decode_commit(commit("messaging.post_hidden.v1", hidden), "MESSAGING", titles) == [
        Withdraw("river", "post:p1")
    ]
    (restore,) = decode_commit(commit("messaging.post_restored.v1", hidden), "MESSAGING", titles)
    assert isinstance(restore, Restore)
    category = {"category": "garden", "name": "Garden", "read_roles": ["gardener"]}
    assert decode_commit(commit("messaging.category_configured.v1", category), "MESSAGING", titles) == [
        CategoryRead("river", "garden", ("gardener",), "Garden")
    ]
    outcome = {
        "poll": "q1",
        "title": "Greenhouse",
        "outcome": "Approved.",
        "result": {"yes": 3},
        "by": "did:a",
    }
    (put_outcome,) = decode_commit(commit("governance.outcome_recorded.v1", outcome), "GOVERNANCE", titles)
    assert isinstance(put_outcome, Put)
    assert put_outcome.source.text == "Approved.\n\nResult: yes: 3"
    deleted = {"document": "d1", "by": "did:a"}
    assert decode_commit(commit("knowledge.document_deleted.v1", deleted), "KNOWLEDGE", titles) == [
        Forget("river", "document:d1")
    ]
    assert decode_commit(commit("messaging.reaction_added.v1", {}), "MESSAGING", titles) == []


def test_governance_own_poll_events_become_a_poll_and_its_outcome() -> None:
    memory = Memory()
    subject = "governance.river.poll.q7"
    spec = {"kind": "proposal", "title": "Paint the fence green", "description": "Green or nothing."}
    created = {"community": "river", "poll": "q7", "spec": spec, "by": "did:a"}
    (poll,) = decode_commit(commit("governance.poll_created.v1", created, subject), "GOVERNANCE", memory)
    assert isinstance(poll, Put)
    assert (poll.source.key, poll.source.title) == ("poll:q7", "Paint the fence green")
    opened = {"snapshot": "s1", "root": "ab", "size": 3, "roll_at_ns": 1}
    assert decode_commit(commit("governance.poll_opened.v1", opened, subject), "GOVERNANCE", memory) == []
    results = {"result": {"outcome": "passed", "agree": 5, "disagree": 1}}
    (counted,) = decode_commit(
        commit("governance.results_recorded.v1", results, subject), "GOVERNANCE", memory
    )
    stated = {"text": "The fence will be painted green in May.", "by": "did:a"}
    (outcome,) = decode_commit(commit("governance.outcome_stated.v1", stated, subject), "GOVERNANCE", memory)
    assert isinstance(counted, Put)
    assert isinstance(outcome, Put)
    assert (outcome.source.key, outcome.source.title) == ("outcome:q7", "Paint the fence green")
    assert outcome.source.text == (
        "The fence will be painted green in May.\n\nResult: outcome: passed; agree: 5; disagree: 1"
    )


def test_a_meeting_polls_times_and_the_meeting_its_outcome_fixed_are_indexed() -> None:
    memory = Memory()
    subject = "governance.river.poll.agm"
    times = ["2026-12-03T17:00:00Z", "2026-12-10T17:00:00Z"]
    spec = {"kind": "meeting", "title": "Annual general meeting", "options": times}
    created = {"community": "river", "poll": "agm", "spec": spec, "by": "did:a"}
    (poll,) = decode_commit(commit("governance.poll_created.v1", created, subject), "GOVERNANCE", memory)
    assert isinstance(poll, Put)
    assert poll.source.text.endswith("Proposed meeting times: 2026-12-03T17:00:00Z, 2026-12-10T17:00:00Z")
    stated = {"text": "The AGM is on the 10th.", "by": "did:a", "slot": 1, "location": "Village hall"}
    (outcome,) = decode_commit(commit("governance.outcome_stated.v1", stated, subject), "GOVERNANCE", memory)
    assert isinstance(outcome, Put)
    assert outcome.source.text == (
        "The AGM is on the 10th.\n\nMeeting time: 2026-12-10T17:00:00Z, location: Village hall"
    )


class AbsorbingStore:
    """A stream whose subscription absorbs the first cancellation, as nats-py does when it lands
    while a command is being flushed, then waits for messages."""

    subjects = MESSAGING

    async def subscribe(self, start_seq: int, subject: str) -> AsyncIterator[StoredCommit]:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        await asyncio.sleep(3600)
        yield commit("messaging.post_created.v1", {})


async def test_the_indexer_stops_even_when_a_subscription_absorbs_a_cancellation() -> None:
    indexer = Indexer(None)
    indexer.start({"MESSAGING": AbsorbingStore()})  # type: ignore[dict-item]
    await asyncio.sleep(0.01)
    await asyncio.wait_for(indexer.stop(), timeout=30)
    assert indexer._tasks == []
