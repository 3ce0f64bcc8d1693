"""A 3-node JetStream cluster with R3 streams keeps accepting writes when the stream leader is killed."""

from __future__ import annotations

import asyncio
import time

import pytest

from shared.envelope import EventRecord
from shared.jetstream import EventStore, JetStreamError, StreamSettings
from shared.natsclient import Client, connect
from shared.natsserver import NatsCluster
from shared.signing import SigningKey
from shared.subjects import StreamSubjects

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


async def test_writes_continue_and_nothing_acknowledged_is_lost_when_the_leader_dies(
    nats_cluster: NatsCluster,
) -> None:
    nc: Client = await connect(nats_cluster.url, reconnect_time_wait=0.1)
    settings = StreamSettings(StreamSubjects.for_service("replicated"), replicas=3)
    store = EventStore(nc, settings, SigningKey.generate(), timeout=2)
    deadline = time.monotonic() + 60
    while True:  # a freshly formed cluster on a busy machine may take a while to place an R3 stream
        try:
            await store.start()
            break
        except JetStreamError:  # "no suitable peers" at once: ask again in a moment, not in a tight loop
            assert time.monotonic() < deadline, "the cluster never created the R3 stream"
            await asyncio.sleep(0.2)
    js = nc.jetstream()
    info = await js.stream_info(settings.subjects.stream)
    assert info.config.num_replicas == 3
    assert info.cluster is not None
    assert info.cluster.leader
    leader = next(node for node in nats_cluster.nodes if node.name == info.cluster.leader)

    acknowledged: list[tuple[str, int]] = []  # (commit id, restarts seen)
    killed = 0
    stop = asyncio.Event()

    async def writer(ident: str) -> None:
        version = 1
        while not stop.is_set():
            commit = store.new_commit(
                community="acme",
                aggregate="ledger",
                ident=ident,
                originator_id=f"acme.ledger.{ident}",
                events=[EventRecord("faults.noted.v1", version, b"{}")],
            )
            while not stop.is_set():
                try:
                    await store.append([commit])
                except Exception:  # noqa: BLE001 - an election or a reconnect: resend the same commit
                    await asyncio.sleep(0.1)
                    continue
                acknowledged.append((commit.commit_id, killed))
                version += 1
                break

    writers = [asyncio.create_task(writer(f"w{i}")) for i in range(4)]
    deadline = time.monotonic() + 60
    while len(acknowledged) < 20:
        assert time.monotonic() < deadline, "the cluster accepted nothing"
        await asyncio.sleep(0.05)
    leader.kill()
    killed = 1
    deadline = time.monotonic() + 60  # an election on a loaded machine takes a while
    while sum(1 for _, k in acknowledged if k == 1) < 20:
        assert time.monotonic() < deadline, "the cluster stopped accepting writes after losing its leader"
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*writers)

    after = await js.stream_info(settings.subjects.stream)
    assert after.cluster is not None
    assert after.cluster.leader not in (None, leader.name)
    stored = await store.read_commits(1, limit=1000)
    ids = [s.commit.commit_id for s in stored]
    assert len(ids) == len(set(ids)), "a resent commit was stored twice"
    assert {commit_id for commit_id, _ in acknowledged} <= set(ids), "an acknowledged commit was lost"
    for subject in {s.subject for s in stored}:
        versions = [s.commit.first_version for s in stored if s.subject == subject]
        assert versions == list(range(1, len(versions) + 1))
    await store.close()
    await nc.close()
