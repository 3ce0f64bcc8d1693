"""Embedded nats-server manager and faults: restarts, kills under load, a node lost in a cluster."""

from __future__ import annotations

import asyncio
import contextlib

import nats
import pytest

from shared.envelope import EventRecord
from shared.jetstream import EventStore, JetStreamError, StreamSettings
from shared.natsserver import NatsCluster, NatsServer
from shared.signing import SigningKey
from shared.subjects import StreamSubjects


async def connect(url: str) -> nats.NATS:
    return await nats.connect(servers=url.split(","), max_reconnect_attempts=-1, reconnect_time_wait=0.1)


async def append_one(store: EventStore, ident: str, version: int) -> str:
    c = store.new_commit(
        community="acme",
        aggregate="member",
        ident=ident,
        originator_id=f"acme.member.{ident}",
        events=[EventRecord("membership.noted.v1", version, b"{}")],
    )
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
    await asyncio.sleep(0.5)
    before_kill = len(acknowledged)
    own_nats_server.kill()
    await asyncio.sleep(0.5)
    own_nats_server.start()
    await asyncio.sleep(1.5)
    stop.set()
    await asyncio.gather(*writers)
    assert before_kill > 0
    assert len(acknowledged) > before_kill, "writers did not resume after the restart"

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
    store = await EventStore(nc, settings, SigningKey.generate(), timeout=5).start()
    for v in range(1, 11):
        await append_one(store, "m1", v)
    info = await nc.jetstream().stream_info(settings.subjects.stream)
    assert info.config.num_replicas == 3

    victim = next(n for n in nats_cluster.nodes if n.url not in _connected(nc))
    victim.kill()
    deadline = asyncio.get_running_loop().time() + 30
    written = 10
    while written < 30:
        try:
            await append_one(store, "m1", written + 1)
            written += 1
        except JetStreamError:
            assert asyncio.get_running_loop().time() < deadline, "cluster stopped accepting"
            await asyncio.sleep(0.2)
    stored = await store.read_aggregate(settings.subjects.aggregate("acme", "member", "m1"))
    assert [c.commit.first_version for c in stored] == list(range(1, 31))
    await store.close()
    with contextlib.suppress(Exception):
        await nc.close()


def _connected(nc: nats.NATS) -> str:
    url = nc.connected_url
    return f"nats://127.0.0.1:{url.port}" if url is not None else ""
