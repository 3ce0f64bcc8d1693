"""The single nats-server killed (SIGKILL) under a stream of appends and restarted on its port and store."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from shared.application import ServiceApplication
from shared.catchup import CatchUp
from shared.domain import Aggregate, Event, applies
from shared.envelope import Commit, EventRecord
from shared.eventcodec import EventRegistry
from shared.jetstream import EventStore, StoredCommit, StreamSettings
from shared.natsclient import Client, connect
from shared.natsserver import NatsServer
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.polling import eventually_async

pytestmark = pytest.mark.slow


def commit_for(store: EventStore, ident: str, version: int) -> Commit:
    return store.new_commit(
        community="acme",
        aggregate="ledger",
        ident=ident,
        originator_id=f"acme.ledger.{ident}",
        events=[EventRecord("faults.noted.v1", version, b"{}")],
    )


async def append_until_acknowledged(store: EventStore, commit: Commit, stop: asyncio.Event) -> bool:
    """What a careful client does: resend the SAME commit until it is acknowledged (its id makes
    the resend harmless when the first attempt was stored after all)."""
    while True:
        try:
            await store.append([commit])
            return True
        except Exception:  # noqa: BLE001 - any failure while the server is down: not acknowledged
            if stop.is_set():
                return False
            await asyncio.sleep(0.05)


class LiveProjection:
    """A projection fed by the store's subscription: counts how often it applies each commit."""

    def __init__(self) -> None:
        self.applied: Counter[str] = Counter()
        self.versions: dict[str, list[int]] = {}

    def apply(self, stored: StoredCommit) -> None:
        self.applied[stored.commit.commit_id] += 1
        self.versions.setdefault(stored.subject, []).append(stored.commit.first_version)

    async def run(self, store: EventStore) -> None:
        with contextlib.suppress(Exception):  # ends when the test closes the connection
            async for stored in store.subscribe(1):
                self.apply(stored)


async def eventually(condition: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_no_acknowledged_commit_is_lost_and_the_projection_applies_each_once(
    own_nats_server: NatsServer,
) -> None:
    nc: Client = await connect(own_nats_server.url, reconnect_time_wait=0.1)
    settings = StreamSettings(StreamSubjects.for_service("restart"))
    store = await EventStore(nc, settings, SigningKey.generate(), timeout=1.5).start()
    projection = LiveProjection()
    consumer = asyncio.create_task(projection.run(store))
    acknowledged: dict[str, int] = {}  # commit id -> acknowledged after how many restarts
    restarts = 0
    stop = asyncio.Event()

    async def writer(ident: str) -> None:
        version = 1
        while not stop.is_set():
            commit = commit_for(store, ident, version)
            if await append_until_acknowledged(store, commit, stop):
                acknowledged[commit.commit_id] = restarts
                version += 1

    writers = [asyncio.create_task(writer(f"w{i}")) for i in range(6)]
    await eventually(lambda: len(acknowledged) >= 30, 60, "writers never got going")
    own_nats_server.kill()
    await asyncio.sleep(0.3)
    own_nats_server.start()
    restarts = 1
    await eventually(
        lambda: sum(1 for r in acknowledged.values() if r == 1) >= 30, 60, "writers did not resume"
    )
    stop.set()
    await asyncio.gather(*writers)

    stored = await store.read_commits(1, limit=1000)
    stored_ids = [s.commit.commit_id for s in stored]
    assert len(stored_ids) == len(set(stored_ids)), "a commit was stored twice"
    assert set(acknowledged) <= set(stored_ids), "an acknowledged commit was lost"
    for subject in {s.subject for s in stored}:
        versions = [s.commit.first_version for s in stored if s.subject == subject]
        assert versions == list(range(1, len(versions) + 1)), f"{subject} has gaps or repeats"
    assert await store.replay() == len(stored)  # every signature still verifies

    await eventually(lambda: len(projection.applied) == len(stored), 60, "the projection did not resume")
    assert set(projection.applied) == set(stored_ids)
    assert set(projection.applied.values()) == {1}, "the projection applied a commit twice"
    consumer.cancel()
    await store.close()
    await nc.close()


# -- the same fault under the eventsourcing application and its read models ----------------------------


class Counted(Event, frozen=True, tag="faults.counted.v1"):
    by: int


class Tally(Aggregate):
    total = 0

    @applies(Counted)
    def _counted(self, event: Counted) -> None:
        self.total += event.by


class TallyApplication(ServiceApplication):
    registry: ClassVar = EventRegistry([Counted])


class TotalsView:
    """A read model that refuses to apply an event twice (it checks versions as it goes)."""

    def __init__(self) -> None:
        self.position = 0
        self.totals: dict[str, int] = {}
        self.version: dict[str, int] = {}

    def apply(self, event: Event) -> None:
        assert isinstance(event, Counted)
        expected = self.version.get(event.originator_id, 0) + 1
        assert event.originator_version == expected, f"{event.originator_id} applied out of order or twice"
        self.version[event.originator_id] = expected
        self.totals[event.originator_id] = self.totals.get(event.originator_id, 0) + event.by


def test_the_application_reconnects_and_its_read_models_resume_from_their_position(
    own_nats_server: NatsServer, tmp_path: Path
) -> None:
    app = TallyApplication(
        {
            "PERSISTENCE_MODULE": "shared.persistence.jetstream",
            "NATS_URL": own_nats_server.url,
            "NATS_STREAM": "TALLY",
            "NATS_SUBJECT_PREFIX": "tally",
            "NATS_TIMEOUT": "1.5",
        }
    )
    view = TotalsView()
    catch_up = CatchUp(app, [view])
    saved: dict[str, int] = {}  # tally id -> total acknowledged
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        tally = Tally(f"acme.tally.t{n}")
        while not stop.is_set():
            tally.trigger(Counted, time.time_ns(), by=n + 1)
            while True:
                try:
                    app.save(tally)
                    break
                except Exception:  # noqa: BLE001 - not acknowledged: reload and decide again
                    if stop.is_set():
                        return
                    time.sleep(0.05)
                    try:
                        tally = app.load(Tally, tally.id)
                    except Exception:  # noqa: BLE001 - still down (or never stored: start over)
                        tally = Tally(tally.id) if tally.version <= 1 else tally
            with lock:
                saved[tally.id] = tally.total

    def reader() -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):
                catch_up()
            time.sleep(0.02)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(saved) < 3 or min(view.totals.values(), default=0) == 0:
            assert time.monotonic() < deadline, "nothing was saved before the kill"
            time.sleep(0.05)
        own_nats_server.kill()
        time.sleep(0.3)
        own_nats_server.start()
        before = dict(saved)
        deadline = time.monotonic() + 60
        while any(saved[k] == before[k] for k in before):
            assert time.monotonic() < deadline, "the application did not reconnect"
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    catch_up()
    for tally_id, total in saved.items():
        assert app.load(Tally, tally_id).total >= total  # every acknowledged save is in the store
        assert view.totals[tally_id] == app.load(Tally, tally_id).total
    assert catch_up.lag() == 0
    app.close()


async def test_the_gateway_reports_unready_while_the_server_is_down_and_recovers_after(
    own_nats_server: NatsServer,
) -> None:
    nc: Client = await connect(own_nats_server.url, name="cos-gateway", reconnect_time_wait=0.1)
    settings = StreamSettings(StreamSubjects.for_service("ready"))
    await EventStore(nc, settings, SigningKey.generate()).start()
    app = create_app(GatewaySettings(nats_url=own_nats_server.url), [settings.subjects.stream])
    app.state.nats = nc
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
        assert (await http.get("/readyz")).status_code == 200
        own_nats_server.kill()
        down = await http.get("/readyz")
        assert down.status_code == 503
        assert down.json()["error"]["type"] == "nats_unavailable"
        own_nats_server.start()
        await eventually(lambda: nc.is_connected, 60, "the gateway's connection did not come back")

        answers: list[httpx.Response] = []

        async def ready_again() -> bool:
            answers.append(await http.get("/readyz"))
            return answers[-1].status_code == 200

        # Ready again once the server answers for its streams, a moment after the reconnect.
        await eventually_async(ready_again, within=30)
        ready = answers[-1]
        assert ready.status_code == 200, ready.text
        assert ready.json()["streams"][0]["name"] == settings.subjects.stream
    await nc.close()
