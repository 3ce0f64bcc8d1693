"""pytest plugin: real nats-server processes on free loopback ports with temporary stores.

Fixture chain, as nats.py's own tests do it: server → client → event store. `NATS_URL` set in the
environment means: use that server instead of starting one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS

from shared.jetstream import EventStore, StreamSettings
from shared.natsserver import NatsCluster, NatsServer
from shared.signing import SigningKey
from shared.subjects import StreamSubjects


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer | None]:
    """One JetStream server for the whole session (None when NATS_URL points elsewhere)."""
    if os.environ.get("NATS_URL"):
        yield None
        return
    server = NatsServer(store_dir=tmp_path_factory.mktemp("nats"), name="test-nats")
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def nats_url(nats_server: NatsServer | None) -> str:
    if nats_server is None:
        return os.environ["NATS_URL"]
    return nats_server.url


@pytest.fixture
def own_nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A server of this test's own, for tests that stop, kill or restart it."""
    server = NatsServer(store_dir=tmp_path / "nats", name="own-nats")
    server.start()
    yield server
    server.close()


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """A 3-node JetStream cluster on loopback."""
    cluster = NatsCluster(size=3, base_dir=tmp_path / "cluster")
    cluster.start()
    yield cluster
    cluster.close()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_url, name="pytest")
    yield client
    await client.close()


def unique_service(prefix: str = "t") -> str:
    """A fresh service name, so each test has a stream of its own on a shared server."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
async def event_store(nc: NATS, signing_key: SigningKey) -> AsyncIterator[EventStore]:
    settings = StreamSettings(StreamSubjects.for_service(unique_service()))
    store = await EventStore(nc, settings, signing_key).start()
    yield store
    await store.close()
    await nc.jetstream().delete_stream(settings.subjects.stream)
