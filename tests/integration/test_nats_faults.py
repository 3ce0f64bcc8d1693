"""Embedded nats-server manager and faults: restarts, kills under load, a node lost in a cluster."""

from __future__ import annotations

import asyncio
import contextlib

import nats
import pytest

from shared.envelope import Commit, EventRecord
from shared.jetstream import EventStore, JetStreamError, StreamSettings
from shared.natsserver import NatsCluster, NatsServer
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.polling import eventually


async def connect(url: str) -> nats.NATS:
    return await nats.connect(servers=url.split(","), max_reconnect_attempts=-1, reconnect_time_wait=0.1)


def new_commit(store: EventStore, ident: str, version: int) -> Commit:
    return store.new_commit(
        community="acme",
        aggregate="member",
        ident=ident,
        originator_id=f"acme.member.{ident}",
        events=[EventRecord("membership.noted.v1", version, b"{}")],
    )


async def append_one(store: EventStore, ident: str, version: int) -> str:
    c = new_commit(store, ident, version)
    await store.append([c])
    return c.commit_id


def test_the_server_reports_ready_and_restarts_on_its_port(own_nats_server: NatsServer) -> None:
    port = own_nats_server.port
    assert own_nats_server.healthz()
    own_nats_server.stop()
    assert not own_nats_server.healthz()
    own_nats_server.start()
    assert own_nats_server.port == port
    assert own_nats_server.healthz()


@pytest.mark.slow
async def test_killing_the_server_under_load_loses_no_acknowledged_commit(
    own_nats_server: NatsServer,
) -> None:
    nc = await connect(own_nats_server.url)
    settings = StreamSettings(StreamSubjects.for_service("faults"))
    store = await EventStore(nc, settings, SigningKey.generate(), timeout=2).start()
    acknowledged: list[str] = []
    stop = asyncio.Event()

    async def writer(ident: str) -> None:
        version = 1
        while not stop.is_set():
            try:
                acknowledged.append(await append_one(store, ident, version))
                version += 1
            except JetStreamError:
                await asyncio.sleep(0.05)  # not acknowledged: the writer retries later
            except Exception:  # noqa: BLE001 - connection errors while the server is down
                await asyncio.sleep(0.05)

    writers = [asyncio.create_task(writer(f"w{i}")) for i in range(8)]
    assert await eventually(lambda: len(acknowledged) >= 10, within=30), "writers never got going"
    own_nats_server.kill()
    await asyncio.sleep(0.5)  # down for a moment
    own_nats_server.start()
    restarted = len(acknowledged)  # nothing is acknowledged while the server is down
    # Reconnecting and retrying take their time on a loaded machine: wait for it, not a fixed while.
    resumed = await eventually(lambda: len(acknowledged) > restarted, within=60)
    stop.set()
    await asyncio.gather(*writers)
    assert resumed, "writers did not resume after the restart"

    stored_ids = set()
    async for page in store._reader.scan(1, settings.subjects.commits):
        stored_ids.update(m.msg_id for m in page)
    assert set(acknowledged) <= stored_ids
    assert await store.replay() == len(stored_ids)
    await store.close()
    await nc.close()


@pytest.mark.cluster
@pytest.mark.slow
async def test_a_three_node_cluster_keeps_accepting_writes_with_one_node_killed(
    nats_cluster: NatsCluster,
) -> None:
    nc = await connect(nats_cluster.url)
    settings = StreamSettings(StreamSubjects.for_service("replicated"), replicas=3)
    store = EventStore(nc, settings, SigningKey.generate(), timeout=5)
    deadline = asyncio.get_running_loop().time() + 60
    while True:  # a fresh cluster on a loaded machine refuses R3 placement ("no suitable peers") a while
        try:
            await store.start()
            break
        except JetStreamError:
            assert asyncio.get_running_loop().time() < deadline, "the cluster never created the R3 stream"
            await asyncio.sleep(0.2)
    for v in range(1, 11):
        await append_one(store, "m1", v)
    info = await nc.jetstream().stream_info(settings.subjects.stream)
    assert info.config.num_replicas == 3

    victim = next(n for n in nats_cluster.nodes if n.url not in _connected(nc))
    victim.kill()
    deadline = asyncio.get_running_loop().time() + 60  # an election on a loaded machine takes a while
    written = 10
    commit = new_commit(store, "m1", written + 1)
    while written < 30:
        try:
            await store.append([commit])  # resent as it is until acknowledged: it may be stored already
        except JetStreamError:
            assert asyncio.get_running_loop().time() < deadline, "cluster stopped accepting"
            await asyncio.sleep(0.2)
            continue
        written += 1
        commit = new_commit(store, "m1", written + 1)
    stored = await store.read_aggregate(settings.subjects.aggregate("acme", "member", "m1"))
    assert [c.commit.first_version for c in stored] == list(range(1, 31))
    await store.close()
    with contextlib.suppress(Exception):
        await nc.close()


def _connected(nc: nats.NATS) -> str:
    url = nc.connected_url
    return f"nats://127.0.0.1:{url.port}" if url is not None else ""
