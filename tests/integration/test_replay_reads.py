"""Replay's lean reads: only the stream sequence and subject are looked up in each stored
message's header block, and they are the very values full header parsing gives, even when a
stored message carries headers named like the server's own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client as NATS

from shared.envelope import Commit, EventRecord, seal
from shared.jetstream import EventStore, StreamSettings
from shared.jetstream.reader import StreamReader, _last_value
from shared.natsclient import connect, parse_headers
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.polling import eventually_async


def _commit(store: EventStore, ident: str, version: int) -> Commit:
    return store.new_commit(
        community="acme",
        aggregate="member",
        ident=ident,
        originator_id=f"acme.member.{ident}",
        events=[EventRecord("perf.noted.v1", version, b"x" * 100)],
    )


def test_the_last_value_is_what_the_parsed_headers_keep() -> None:
    # A stored message's own headers come first; the server appends its Nats-Subject/-Sequence.
    raw = (
        b"NATS/1.0\r\nNats-Msg-Id: id1\r\nNats-Sequence: 999\r\nNats-Subject: s.zzz\r\n"
        b"Nats-Stream: S\r\nNats-Subject: s.a\r\nNats-Sequence: 7\r\nNats-Time-Stamp: t\r\n\r\n"
    )
    _, headers = parse_headers(raw)
    assert _last_value(raw, b"\r\nNats-Sequence:") == headers["Nats-Sequence"].encode() == b"7"
    assert _last_value(raw, b"\r\nNats-Subject:") == headers["Nats-Subject"].encode() == b"s.a"
    assert _last_value(raw, b"\r\nNats-Missing:") is None


@pytest.fixture(params=["nats-py", "project-client"])
async def client(nats_url: str, request: pytest.FixtureRequest) -> AsyncIterator[NATS]:
    nc = await (nats.connect(nats_url) if request.param == "nats-py" else connect(nats_url))
    yield nc
    await nc.close()


async def test_replay_reads_lean_and_sees_what_full_parsing_sees(client: NATS) -> None:
    name = f"lean{uuid.uuid4().hex[:10]}"
    settings = StreamSettings(StreamSubjects(name.upper(), name))
    store = await EventStore(client, settings, SigningKey.generate()).start()
    try:

        async def writer(a: int) -> None:
            for v in range(1, 11):
                await store.append([_commit(store, f"m{a}", v)])

        await asyncio.gather(*(writer(a) for a in range(30)))
        # A stored message may carry headers named like the server's own: the server's win.
        spoofed = seal(_commit(store, "spoof", 1), store.key)
        await client.publish(
            settings.subjects.aggregate("acme", "member", "spoof"),
            spoofed,
            headers={"Nats-Sequence": "999999", "Nats-Subject": "elsewhere.x.y.z"},
        )
        await client.flush()

        async def stored() -> bool:  # a plain publish is stored a moment after the server reads it
            return await store.last_seq() == 301

        assert await eventually_async(stored)
        assert await store.replay(page_size=64) == 301
        assert await store.replay(subject=settings.subjects.commits, page_size=64) == 301

        reader = StreamReader(client, settings.subjects.stream)
        full, full_pending = await reader.batch(1, None, 500)
        lean, lean_pending = await reader.sequenced(1, None, 500)
        assert lean == [(m.seq, m.subject, m.data) for m in full]
        assert lean_pending == full_pending == 0
        assert lean[-1][:2] == (301, settings.subjects.aggregate("acme", "member", "spoof"))
    finally:
        await store.close()
        await client.jetstream().delete_stream(settings.subjects.stream)
