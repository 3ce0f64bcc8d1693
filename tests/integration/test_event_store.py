"""The signed event store against a real nats-server: concurrency, idempotence, atomicity, bad bytes."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor

import msgspec
import nats
import nats.errors
import pytest
from nats.aio.client import Client as NATS

from shared.envelope import (
    Commit,
    CorruptEnvelope,
    EventRecord,
    SignerMismatch,
    TrackingPosition,
    seal,
)
from shared.jetstream import (
    CommitTooLarge,
    ConcurrencyConflict,
    EventStore,
    StreamNotFound,
    StreamSettings,
)
from shared.jetstream.publisher import OutgoingMessage, Publisher
from shared.natsclient import Client, connect, encode_headers, parse_headers
from shared.signing import SigningKey
from shared.subjects import InvalidSubject, community_filter
from shared.testkit.polling import eventually


@pytest.fixture(params=["nats-py", "project-client"])
async def nc(nats_url: str, request: pytest.FixtureRequest) -> AsyncIterator[NATS]:
    """Every test here runs on nats-py's client and on the project's, whose direct reply handlers
    and pre-encoded publishing take another code path to the same results."""
    client = await (nats.connect(nats_url) if request.param == "nats-py" else connect(nats_url))
    assert isinstance(client, Client) == (request.param == "project-client")
    yield client
    await client.close()


def commit(
    store: EventStore,
    ident: str,
    versions: list[int],
    community: str = "acme",
    commit_id: str | None = None,
    size: int = 16,
) -> Commit:
    return store.new_commit(
        community=community,
        aggregate="member",
        ident=ident,
        originator_id=f"{community}.member.{ident}",
        events=[EventRecord("membership.noted.v1", v, b"x" * size) for v in versions],
        commit_id=commit_id,
    )


async def count_messages(nc: NATS, store: EventStore) -> int:
    info = await nc.jetstream().stream_info(store.subjects.stream)
    return int(info.state.messages)


async def test_appended_commits_read_back_verified_and_in_order(event_store: EventStore) -> None:
    await event_store.append([commit(event_store, "m1", [1, 2])])
    await event_store.append([commit(event_store, "m1", [3])])
    stored = await event_store.read_aggregate(event_store.subjects.aggregate("acme", "member", "m1"))
    assert [c.commit.first_version for c in stored] == [1, 3]
    assert [v.version for c in stored for v in c.commit.events] == [1, 2, 3]
    assert stored[0].seq < stored[1].seq
    assert stored[0].commit.signer == event_store.key.key_id


async def test_pipelined_writers_of_the_same_version_get_exactly_one_conflict(
    event_store: EventStore, nc: NATS
) -> None:
    await event_store.append([commit(event_store, "m1", [1])])
    results = await asyncio.gather(
        event_store.append([commit(event_store, "m1", [2])]),
        event_store.append([commit(event_store, "m1", [2])]),
        return_exceptions=True,
    )
    conflicts = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(conflicts) == 1, results
    assert conflicts[0].subject.endswith(".acme.member.m1")
    assert "version 2 is already recorded" in str(conflicts[0])
    assert await count_messages(nc, event_store) == 2


async def test_a_writer_with_a_stale_view_is_told_of_the_conflict(event_store: EventStore, nc: NATS) -> None:
    other = await EventStore(nc, event_store.settings, SigningKey.generate()).start()
    await event_store.append([commit(event_store, "m1", [1])])
    await event_store.head(event_store.subjects.aggregate("acme", "member", "m1"))
    await other.append([commit(other, "m1", [2])])  # event_store's cached head is now stale
    with pytest.raises(ConcurrencyConflict, match="aggregate is at version 2"):
        await event_store.append([commit(event_store, "m1", [2])])
    await event_store.append([commit(event_store, "m1", [3])])  # after learning, it proceeds
    await other.close()


async def test_many_aggregates_append_concurrently_without_conflicts(
    event_store: EventStore, nc: NATS
) -> None:
    async def write(i: int) -> None:
        for v in range(1, 4):
            await event_store.append([commit(event_store, f"m{i}", [v])])

    await asyncio.gather(*(write(i) for i in range(50)))
    assert await count_messages(nc, event_store) == 150


async def test_retrying_the_same_commit_is_idempotent(event_store: EventStore, nc: NATS) -> None:
    first = commit(event_store, "m1", [1], commit_id="same-commit")
    seq1 = await event_store.append([first])
    fresh_view = await EventStore(nc, event_store.settings, event_store.key).start()
    seq2 = await fresh_view.append([first])  # e.g. the acknowledgement was lost and we retry
    assert seq1 == seq2
    assert await count_messages(nc, event_store) == 1
    await fresh_view.close()


async def test_commits_of_several_aggregates_land_together_or_not_at_all(
    event_store: EventStore, nc: NATS
) -> None:
    await event_store.append([commit(event_store, "m2", [1])])
    with pytest.raises(ConcurrencyConflict):
        await event_store.append([commit(event_store, "m1", [1]), commit(event_store, "m2", [1])])
    assert await count_messages(nc, event_store) == 1
    seqs = await event_store.append([commit(event_store, "m1", [1]), commit(event_store, "m2", [2])])
    assert seqs[1] == seqs[0] + 1


async def test_tracking_positions_only_move_forward_atomically_with_commits(
    event_store: EventStore, nc: NATS
) -> None:
    await event_store.append([commit(event_store, "m1", [1])], TrackingPosition("proj", 10))
    with pytest.raises(ConcurrencyConflict, match="not after tracked position 10"):
        await event_store.append([commit(event_store, "m2", [1])], TrackingPosition("proj", 10))
    assert await count_messages(nc, event_store) == 2  # commit + marker; nothing from the refusal
    assert await event_store.max_tracking_id("proj") == 10


async def test_an_oversized_commit_is_refused_and_nothing_is_written(
    event_store: EventStore, nc: NATS
) -> None:
    with pytest.raises(CommitTooLarge, match="the server accepts"):
        await event_store.append([commit(event_store, "m1", [1], size=nc.max_payload + 1)])
    assert await count_messages(nc, event_store) == 0


async def test_bad_names_are_refused_before_anything_is_sent(event_store: EventStore) -> None:
    with pytest.raises(InvalidSubject, match="community"):
        commit(event_store, "m1", [1], community="acme.evil")
    with pytest.raises(InvalidSubject, match="aggregate id"):
        commit(event_store, "a b", [1])


async def test_corrupt_or_forged_messages_are_reported_with_their_sequence(
    event_store: EventStore, nc: NATS
) -> None:
    subject = event_store.subjects.aggregate("acme", "member", "m1")
    js = nc.jetstream()
    await js.publish(subject, b"\x93garbage")
    with pytest.raises(CorruptEnvelope, match="stream sequence 1"):
        await event_store.read_aggregate(subject)

    forger = SigningKey.generate()
    honest = commit(event_store, "m2", [1])
    forged = msgspec.msgpack.decode(seal(honest, event_store.key))
    forged["signature"] = forger.sign(forged["body"])
    subject2 = event_store.subjects.aggregate("acme", "member", "m2")
    await js.publish(subject2, msgspec.msgpack.encode(forged))
    with pytest.raises(SignerMismatch, match="stream sequence 2"):
        await event_store.read_aggregate(subject2)
    with pytest.raises(CorruptEnvelope):
        await event_store.replay()


async def test_a_community_is_a_subject_filter(event_store: EventStore) -> None:
    await event_store.append([commit(event_store, "m1", [1], community="acme")])
    await event_store.append([commit(event_store, "m1", [1], community="bolt")])
    await event_store.append([commit(event_store, "m2", [1], community="acme")])
    prefix = event_store.subjects.prefix
    acme = await event_store.read_commits(1, subject=community_filter("acme", prefix))
    assert [c.commit.community for c in acme] == ["acme", "acme"]
    bolt = await event_store.read_commits(1, subject=community_filter("bolt", prefix))
    assert [c.commit.originator_id for c in bolt] == ["bolt.member.m1"]


async def test_replay_verifies_every_commit(event_store: EventStore) -> None:
    for i in range(1, 2501):
        await event_store.append([commit(event_store, f"m{i % 7}", [i // 7 + 1])])
    assert await event_store.replay(page_size=400) == 2500


async def test_a_subscription_delivers_history_then_new_commits(event_store: EventStore) -> None:
    await event_store.append([commit(event_store, "m1", [1])])
    received: list[str] = []

    async def consume() -> None:
        async for stored in event_store.subscribe(1):
            received.append(stored.commit.originator_id)
            if len(received) == 2:
                return

    task = asyncio.create_task(consume())
    assert await eventually(lambda: received), "the history was not delivered"
    await event_store.append([commit(event_store, "m2", [1])])
    await asyncio.wait_for(task, 30)
    assert received == ["acme.member.m1", "acme.member.m2"]


async def test_streams_are_provisioned_idempotently(nc: NATS, event_store: EventStore) -> None:
    settings = StreamSettings(event_store.subjects, duplicate_window_s=60)
    again = await EventStore(nc, settings, event_store.key).start()
    info = await nc.jetstream().stream_info(event_store.subjects.stream)
    assert info.config.duplicate_window == 60
    await again.start()
    await again.close()


async def test_the_project_client_publishes_pre_encoded_frames_and_handles_replies_directly(
    nats_url: str,
) -> None:
    client = await connect(nats_url)
    seen: list[tuple[bytes, str | None, dict[str, str], bytes]] = []

    def handler(subject: bytes, raw_headers: bytes | None, data: bytes) -> None:
        status, headers = parse_headers(raw_headers)
        seen.append((subject, status, headers, data))

    try:
        sub = await client.subscribe_direct("direct.test.*", handler)
        header = encode_headers({"Nats-Msg-Id": "m-1", "X-Count": "7"})
        await client.publish_frames(
            [("direct.test.a", "", header, b"one"), ("direct.test.b", "reply.x", encode_headers({}), b"")]
        )
        # nats-py's flush() writes its PING ahead of queued data, so wait for the deliveries.
        await eventually(lambda: len(seen) == 2)
        assert seen == [
            (b"direct.test.a", None, {"Nats-Msg-Id": "m-1", "X-Count": "7"}, b"one"),
            (b"direct.test.b", None, {}, b""),
        ]
        await client.unsubscribe_direct(sub)
        await client.publish_frames([("direct.test.b", "", header, b"late")])
        marker = await client.subscribe("direct.test.b")
        await client.publish_frames([("direct.test.b", "", header, b"after")])
        assert (await marker.next_msg(timeout=10)).data == b"after"
        assert len(seen) == 2  # "late" and "after" were delivered after the handler was removed

        with pytest.raises(nats.errors.MaxPayloadError):
            await client.publish_frames([("direct.test.a", "", header, b"x" * (client.max_payload + 1))])
        with pytest.raises(nats.errors.BadHeaderError):
            encode_headers({"Bad": "line\r\nInjected: 1"})
    finally:
        await client.close()
    with pytest.raises(nats.errors.ConnectionClosedError):
        await client.publish_frames([("direct.test.a", "", header, b"closed")])


def test_inline_status_lines_are_parsed_with_their_headers() -> None:
    assert parse_headers(b"NATS/1.0 204 EOB\r\nNats-Num-Pending: 3\r\n\r\n") == (
        "204",
        {"Nats-Num-Pending": "3"},
    )
    assert parse_headers(b"NATS/1.0 503\r\n\r\n") == ("503", {})
    assert parse_headers(None) == (None, {})


async def test_a_publish_to_no_stream_is_reported_as_such_on_both_clients(nc: NATS) -> None:
    publisher = Publisher(nc, timeout=5)
    await publisher.start()
    with pytest.raises(StreamNotFound):
        await publisher.publish(OutgoingMessage("nostream.acme.member.m1", b"x", {"Nats-Msg-Id": "1"}))
    await publisher.close()


async def test_replay_verifies_on_a_process_pool_and_names_a_forged_commit(
    event_store: EventStore, nc: NATS
) -> None:
    for i in range(1, 301):
        await event_store.append([commit(event_store, f"m{i % 5}", [i // 5 + 1])])
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert await event_store.replay(executor=pool, page_size=100) == 300
        forged = msgspec.msgpack.decode(seal(commit(event_store, "m9", [1]), event_store.key))
        forged["signature"] = SigningKey.generate().sign(forged["body"])
        await nc.jetstream().publish(
            event_store.subjects.aggregate("acme", "member", "m9"), msgspec.msgpack.encode(forged)
        )
        with pytest.raises(SignerMismatch, match="stream sequence 301"):
            await event_store.replay(executor=pool, page_size=100)
