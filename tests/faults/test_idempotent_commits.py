"""Resending a commit after a crash is harmless; reusing its id for other content is refused."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.client import Client as NATS

from shared.envelope import Commit, EventRecord
from shared.jetstream import ConcurrencyConflict, EventStore, StreamSettings
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.plugin import unique_service

COMMIT_ID = "7d9f1e2a-0000-4000-8000-000000000001"


def noted(store: EventStore, version: int, commit_id: str | None = None) -> Commit:
    return store.new_commit(
        community="acme",
        aggregate="ledger",
        ident="a1",
        originator_id="acme.ledger.a1",
        events=[EventRecord("faults.noted.v1", version, b"{}")],
        commit_id=commit_id,
    )


async def messages(nc: NATS, settings: StreamSettings) -> int:
    return (await nc.jetstream().stream_info(settings.subjects.stream)).state.messages


@pytest.fixture
def settings() -> StreamSettings:
    return StreamSettings(StreamSubjects.for_service(unique_service("idem")), duplicate_window_s=0.5)


async def test_a_resent_commit_is_acknowledged_once_stored_even_after_the_duplicate_window(
    nc: NATS, settings: StreamSettings
) -> None:
    key = SigningKey.generate()
    first = await EventStore(nc, settings, key).start()
    commit = noted(first, 1, COMMIT_ID)
    [seq] = await first.append([commit])
    await first.append([noted(first, 2)])
    await asyncio.sleep(0.7)  # the server has forgotten the id: only the store's own check remains

    restarted = await EventStore(nc, settings, key).start()  # knows nothing of the first attempt
    assert await restarted.append([commit]) == [seq]
    assert await messages(nc, settings) == 2
    await nc.jetstream().delete_stream(settings.subjects.stream)


async def test_a_commit_id_reused_for_other_versions_is_a_conflict_not_a_silent_duplicate(
    nc: NATS,
) -> None:
    # The server's window must outlast the test (a half-second one did not, on a loaded machine,
    # and the reused id was then stored as a new commit): this is the check inside the window.
    settings = StreamSettings(StreamSubjects.for_service(unique_service("idem")))
    key = SigningKey.generate()
    first = await EventStore(nc, settings, key).start()
    await first.append([noted(first, 1, COMMIT_ID)])

    other = await EventStore(nc, settings, key).start()
    with pytest.raises(ConcurrencyConflict, match="other versions"):
        await other.append([noted(other, 2, COMMIT_ID)])  # inside the window: the server says duplicate
    await other.append([noted(other, 2)])
    history = await other.read_aggregate(settings.subjects.aggregate("acme", "ledger", "a1"))
    assert [c.commit.first_version for c in history] == [1, 2]  # no gap, no silent loss
    await nc.jetstream().delete_stream(settings.subjects.stream)


async def test_a_commit_id_reused_after_the_duplicate_window_is_still_a_conflict(
    nc: NATS, settings: StreamSettings
) -> None:
    """Past the server's window only the store can tell: the aggregate's last commit has that id."""
    key = SigningKey.generate()
    first = await EventStore(nc, settings, key).start()
    await first.append([noted(first, 1, COMMIT_ID)])
    await asyncio.sleep(0.7)  # the server has forgotten the id

    other = await EventStore(nc, settings, key).start()
    with pytest.raises(ConcurrencyConflict, match="other versions"):
        await other.append([noted(other, 2, COMMIT_ID)])
    assert await messages(nc, settings) == 1
    await other.append([noted(other, 2)])
    history = await other.read_aggregate(settings.subjects.aggregate("acme", "ledger", "a1"))
    assert [c.commit.first_version for c in history] == [1, 2]
    await nc.jetstream().delete_stream(settings.subjects.stream)
