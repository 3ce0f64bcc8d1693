"""The warehouse's server path: a real ClickHouse server through clickhouse-connect, checked against chdb.

The server is started by `shared.testkit.clickhouse` on free loopback ports. A server older than
MIN_SERVER_VERSION (Debian bookworm ships 18.16) must be refused with its version named; a new enough
one must give every view the same answer as the embedded engine over the same events.

The comparisons also run through clickhouse-connect's chdb backend (`chdb://`): the same
`ClickHouseWarehouse` code and client API as against a server — schema, typed inserts from several
threads, settings, JSON results — with ClickHouse in this process instead of behind HTTP. That part
runs on every machine; only the HTTP transport and a real server's version probe need the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from cos.cli import main
from services.transparency.warehouse import (
    MIN_SERVER_VERSION,
    ROWS_TABLE,
    VIEWS,
    ClickHouseWarehouse,
    Warehouse,
    WarehouseError,
    load_bundle,
    load_streams,
    open_warehouse,
    server_version,
)
from shared.bundle import read_bundle
from shared.jetstream import EventStore, StreamSettings
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.clickhouse import ClickHouseServer, clickhouse_server
from shared.testkit.plugin import unique_service
from shared.transparency.samples import sample_log, write_sample_bundle

from .test_warehouse import record

__all__ = ["clickhouse_server"]

MINIMUM = ".".join(map(str, MIN_SERVER_VERSION))


def new_enough(version: str) -> bool:
    return tuple(int(p) for p in version.split(".")[:2]) >= MIN_SERVER_VERSION


@pytest.fixture
def server_warehouse(clickhouse_server: ClickHouseServer) -> Iterator[Warehouse]:
    """A fresh database on the server, dropped afterwards."""
    if not new_enough(clickhouse_server.version):
        pytest.skip(
            f"the only ClickHouse server here is {clickhouse_server.version} "
            f"({clickhouse_server.command[0]}), "
            f"older than {MINIMUM}: the warehouse refuses it (see test_an_old_server_is_refused)"
        )
    database = unique_service("wh")
    admin = open_warehouse(clickhouse_server.url)
    admin.execute(f"CREATE DATABASE {database}")
    warehouse = open_warehouse(f"{clickhouse_server.url}/{database}")
    try:
        yield warehouse
    finally:
        warehouse.close()
        admin.execute(f"DROP DATABASE {database}")
        admin.close()


@pytest.fixture(params=["server", "clickhouse-connect over chdb"])
def paired(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Warehouse, Warehouse]]:
    """(the warehouse through clickhouse-connect, the embedded warehouse) over the same engine version
    or not: a real server's fresh database beside a chdb session; or, whatever server this machine
    lacks, clickhouse-connect's chdb backend (ClickHouse in this process, reached through the same
    client API a server is: typed inserts, settings, JSON results) beside a chdb session on the same
    directory, in a database of its own. The second runs everything but the HTTP transport."""
    if request.param == "server":
        server = request.getfixturevalue("server_warehouse")
        embedded = open_warehouse(None)
        try:
            yield server, embedded
        finally:
            embedded.close()
        return
    import clickhouse_connect

    embedded = open_warehouse(tmp_path)
    admin = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path}")
    admin.command("CREATE DATABASE IF NOT EXISTS through_connect")
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path}", database="through_connect")
    through = ClickHouseWarehouse(f"chdb://{tmp_path}", client=client)
    assert new_enough(through.version)
    try:
        yield through, embedded
    finally:
        through.close()
        admin.close()
        embedded.close()


def answers(warehouse: Warehouse, community: str | None = None) -> dict[str, list[list[Any]]]:
    """Every view's rows (of one community, or all), and the events table in its key order."""
    where = f"WHERE community = '{community}'" if community else ""
    out = {name: warehouse.query(f"SELECT * FROM {name} {where}").rows for name in VIEWS}
    out["events"] = warehouse.query(
        f"SELECT * FROM events {where} ORDER BY community, stream, sequence, event_index"
    ).rows
    return out


def test_the_server_reports_its_version(clickhouse_server: ClickHouseServer) -> None:
    assert server_version(clickhouse_server.url) == clickhouse_server.version
    with pytest.raises(WarehouseError, match="cannot reach ClickHouse"):
        server_version("http://127.0.0.1:9/", timeout_s=2)


def test_an_old_server_is_refused_naming_its_version(clickhouse_server: ClickHouseServer) -> None:
    if new_enough(clickhouse_server.version):
        pytest.skip(f"ClickHouse {clickhouse_server.version} is new enough; no old server to refuse")
    with pytest.raises(WarehouseError) as refused:
        ClickHouseWarehouse(clickhouse_server.url)
    assert clickhouse_server.version in str(refused.value)
    assert f"older than {MINIMUM}" in str(refused.value)


def test_a_bundle_loaded_through_the_server_answers_like_chdb(
    paired: tuple[Warehouse, Warehouse], tmp_path: Path
) -> None:
    server_warehouse, embedded = paired
    log = sample_log("srv", {"MEMBERSHIP": 300, "GOVERNANCE": 200})
    write_sample_bundle(tmp_path / "b.jsonl", "srv", log)
    bundle = read_bundle(tmp_path / "b.jsonl")
    on_server = load_bundle(bundle, server_warehouse, insert_batch=128)
    in_chdb = load_bundle(bundle, embedded, insert_batch=128)
    assert on_server.as_json() == in_chdb.as_json()
    assert on_server.events > 0
    expected = answers(embedded)
    assert answers(server_warehouse) == expected
    assert expected["membership_growth"]


async def test_streams_load_through_the_server_incrementally_like_chdb(
    paired: tuple[Warehouse, Warehouse], nats_url: str
) -> None:
    server_warehouse, embedded = paired
    community = unique_service("s")
    nc = await nats.connect(nats_url)
    settings = StreamSettings(StreamSubjects.for_service(unique_service("ws")))
    store = await EventStore(nc, settings, SigningKey.generate()).start()
    stream = settings.subjects.stream
    try:
        await record(store, community, "thing", "t1", "w.thing_made.v1", by="did:key:zA", blob=b"\x00\xff")
        first = await load_streams(nc, server_warehouse, community=community, streams=(stream,))
        assert first.events == 1
        await record(store, community, "thing", "t1", "w.thing_made.v1", statement={"actor": "did:key:zB"})
        second = await load_streams(nc, server_warehouse, community=community, streams=(stream,))
        assert second.events == 1  # resumed after what the server already holds
        await load_streams(nc, embedded, community=community, streams=(stream,))
        assert answers(server_warehouse, community) == answers(embedded, community)
        actors = server_warehouse.query(f"SELECT actor FROM events WHERE community = '{community}'")
        assert sorted(actors.rows) == [["did:key:zA"], ["did:key:zB"]]
    finally:
        await store.close()
        await nc.jetstream().delete_stream(stream)
        await nc.close()


def test_cos_sql_names_the_old_server_it_refuses(
    clickhouse_server: ClickHouseServer, capsys: pytest.CaptureFixture[str]
) -> None:
    if new_enough(clickhouse_server.version):
        pytest.skip(f"ClickHouse {clickhouse_server.version} is new enough; no old server to refuse")
    code = main(["sql", "--warehouse", clickhouse_server.url, "--no-load", "SELECT 1"])
    assert code == 1
    err = capsys.readouterr().err
    assert f"ClickHouse {clickhouse_server.version}" in err
    assert f"older than {MINIMUM}" in err


def test_cos_sql_queries_a_server_warehouse(
    clickhouse_server: ClickHouseServer, server_warehouse: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    community = unique_service("q")
    server_warehouse.execute(
        f"INSERT INTO {ROWS_TABLE} (stream, community, subject, aggregate, aggregate_id, sequence, "
        f"commit_id, event_index, event_type, version, timestamp_ns) VALUES ('MEMBERSHIP', '{community}', "
        f"'membership.{community}.member.m1', 'member', 'm1', 1, 'c1', 0, 'membership.member_admitted.v1', "
        "1, 1700000000000000000)"
    )
    database = server_warehouse.query("SELECT currentDatabase()").rows[0][0]
    query = f"SELECT community, joined, members FROM membership_growth WHERE community = '{community}'"
    code = main(
        ["sql", "--warehouse", f"{clickhouse_server.url}/{database}", "--no-load", "--format", "json", query]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out) == [{"community": community, "joined": 1, "members": 1}]


async def test_projection_workers_load_through_clickhouse_connect_from_several_threads(
    paired: tuple[Warehouse, Warehouse], nats_url: str
) -> None:
    """Two projections (two connections, one worker per stream each) insert through the one client
    at once, from threads: every event lands once and the views agree with the embedded engine."""
    from services.transparency.warehouse import WarehouseProjection
    from shared.testkit.polling import eventually

    through, embedded = paired
    community = unique_service("pw")
    connections = [await nats.connect(nats_url) for _ in range(3)]
    stores = [
        await EventStore(
            connections[0], StreamSettings(StreamSubjects.for_service(unique_service("wp"))), key
        ).start()
        for key in (SigningKey.generate(), SigningKey.generate())
    ]
    streams = tuple(store.subjects.stream for store in stores)
    workers = [
        WarehouseProjection(nc, through, streams=streams, batch=10, fetch_wait_s=0.1)
        for nc in connections[1:]
    ]
    try:
        for worker in workers:
            await worker.start()
        for n in range(60):
            for store in stores:
                await record(store, community, "thing", f"t{n % 7}", "w.thing_made.v1", by=f"did:key:z{n}")

        def loaded() -> int:
            return int(
                through.query(f"SELECT count() FROM events WHERE community = '{community}'").rows[0][0]
            )

        assert await eventually(lambda: loaded() == 120, within=30), loaded()
        assert through.query(f"SELECT count() FROM {ROWS_TABLE}").rows == [[120]]
        await load_streams(connections[0], embedded, community=community, streams=streams)
        assert answers(through, community) == answers(embedded, community)
    finally:
        for worker in workers:
            await worker.stop(close=False)
        for store in stores:
            await store.close()
            await connections[0].jetstream().delete_stream(store.subjects.stream)
        for nc in connections:
            await nc.close()
