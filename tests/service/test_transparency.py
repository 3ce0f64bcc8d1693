"""The checkpointer on a real server: signed checkpoints per community, proofs that verify, forks refused."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from services.transparency.checkpointer import Checkpointer
from services.transparency.entrypoints import build_router
from shared.bundle import BundleError, export_community
from shared.commands import CommandClient, CommandRejected
from shared.envelope import EventRecord
from shared.jetstream import EventStore, StreamSettings, ensure_stream
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.plugin import unique_service
from shared.transparency.checkpoint import Checkpoint, NoteVerifier, parse_signed_checkpoint, sign_checkpoint
from shared.transparency.layout import checkpoint_subject
from shared.transparency.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion


async def commit(store: EventStore, community: str, ident: str, version: int) -> int:
    c = store.new_commit(
        community=community,
        aggregate="thing",
        ident=ident,
        originator_id=f"{community}.thing.{ident}",
        events=[EventRecord("t.changed.v1", version, b"\x80")],
    )
    return (await store.append([c]))[0]


@pytest.fixture
async def audit(nc: NATS) -> None:
    await ensure_stream(nc, StreamSettings(StreamSubjects("AUDIT", "audit")))


def b64(text: str) -> bytes:
    return base64.b64decode(text)


async def test_checkpoints_are_signed_per_community_and_proofs_verify(
    nc: NATS, event_store: EventStore, audit: None
) -> None:
    stream = event_store.subjects.stream
    river, lake = unique_service("r"), unique_service("l")
    for i in range(5):
        await commit(event_store, river, f"a{i % 2}", i // 2 + 1)
    await commit(event_store, lake, "b", 1)
    checkpointer = Checkpointer(nc, SigningKey.generate(), "test.example", interval_s=0.01, streams=(stream,))
    await checkpointer.start()
    router = build_router(checkpointer)
    await router.start(nc)
    client = CommandClient(nc)
    try:
        first = await client.call("transparency", "checkpoint", {"community": river})
        verifier = NoteVerifier.parse(first["key"])
        note = parse_signed_checkpoint(first["streams"][stream]["note"])
        note.verify(verifier)
        assert note.checkpoint.origin == f"test.example/c/{river}/{stream.lower()}"
        assert note.checkpoint.size == 5  # the lake's commit is in its own log, not the river's
        stored = await event_store.read_commits(1, subject=f"{stream.lower()}.{river}.>")
        assert note.checkpoint.root == MerkleTree.of_leaves(c.data for c in stored).root()

        for i in range(5, 9):
            await commit(event_store, river, f"a{i % 2}", i // 2 + 1)
        second = await client.call("transparency", "checkpoint", {"community": river})
        newer = parse_signed_checkpoint(second["streams"][stream]["note"]).checkpoint
        assert newer.size == 9

        proof = await client.call(
            "transparency", "consistency", {"community": river, "stream": stream, "old_size": 5}
        )
        verify_consistency(5, 9, note.checkpoint.root, newer.root, [b64(p) for p in proof["proof"]])

        stored = await event_store.read_commits(1, subject=f"{stream.lower()}.{river}.>")
        for query in (
            {"position": 6},
            {"sequence": stored[6].seq},
            {"commit_id": stored[6].commit.commit_id},
        ):
            found: dict[str, Any] = await client.call(
                "transparency", "inclusion", {"community": river, "stream": stream, **query}
            )
            assert (found["position"], found["size"]) == (6, 9)
            assert b64(found["leaf_hash"]) == leaf_hash(stored[6].data)
            verify_inclusion(6, 9, leaf_hash(stored[6].data), [b64(p) for p in found["proof"]], newer.root)

        with pytest.raises(CommandRejected) as refused:
            await client.call(
                "transparency", "inclusion", {"community": river, "stream": stream, "position": 99}
            )
        assert refused.value.type == "not_yet_checkpointed"
        with pytest.raises(CommandRejected) as refused:
            await client.call("transparency", "latest", {"community": river, "stream": "NOPE"})
        assert refused.value.type == "invalid_stream"
    finally:
        await router.stop()
        await checkpointer.stop()


async def test_a_restarted_checkpointer_extends_the_log_and_refuses_a_forked_history(
    nc: NATS, event_store: EventStore, audit: None
) -> None:
    stream = event_store.subjects.stream
    community = unique_service("c")
    for i in range(3):
        await commit(event_store, community, "x", i + 1)
    key = SigningKey.generate()
    first = Checkpointer(nc, key, "test.example", interval_s=0.01, streams=(stream,))
    await first.start()
    await first.checkpoint_now(community)
    await first.stop()

    await commit(event_store, community, "x", 4)
    again = Checkpointer(nc, key, "test.example", interval_s=0.01, streams=(stream,))
    await again.start()
    latest = (await again.checkpoint_now(community))[stream]
    assert latest is not None
    assert latest.size == 4
    await again.stop()

    # Someone publishes a checkpoint whose root is not the stream's: the log is never extended again.
    forged = sign_checkpoint(
        Checkpoint(f"test.example/c/{community}/{stream.lower()}", 4, bytes(32)),
        key,
        "test.example/checkpointer",
    )
    await nc.jetstream().publish(checkpoint_subject(community, stream), forged.text.encode())
    await commit(event_store, community, "x", 5)
    third = Checkpointer(nc, key, "test.example", interval_s=0.01, streams=(stream,))
    await third.start()
    try:
        after = (await third.checkpoint_now(community))[stream]
        assert after is not None
        assert after.size == 4  # the forged one stays the newest: nothing was signed over it
        entry = third.logs.get(community, stream)
        assert entry is not None
        assert entry.alarm is not None
        assert "history was changed" in entry.alarm
    finally:
        await third.stop()


async def test_exporting_an_unknown_community_is_refused_and_writes_nothing(
    nc: NATS, audit: None, tmp_path: Path
) -> None:
    with pytest.raises(BundleError, match="no such community"):
        await export_community(nc, unique_service("nobody"), tmp_path / "none.jsonl")
    assert not (tmp_path / "none.jsonl").exists()
