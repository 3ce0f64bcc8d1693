"""The warehouse: events from a running deployment into embedded ClickHouse, views, `cos sql`."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cos.cli import main
from services.transparency.warehouse import QueryResult, Warehouse, load_streams, open_warehouse
from shared.envelope import EventRecord
from shared.jetstream import EventStore, StreamSettings
from shared.natsserver import NatsServer
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.plugin import unique_service

from .test_export_import import deployment
from .test_gateway_membership import Person


async def record(
    store: EventStore, tenant: str, aggregate: str, ident: str, topic: str, **fields: Any
) -> None:
    """A commit as a service writes it: the event's fields as a msgpack map."""
    head = await store.head(f"{store.subjects.prefix}.{tenant}.{aggregate}.{ident}")
    version = (head.last_version or 0) + 1
    state = msgspec.msgpack.encode({"type": topic, **fields})
    commit = store.new_commit(
        community=tenant,
        aggregate=aggregate,
        ident=ident,
        originator_id=f"{tenant}.{aggregate}.{ident}",
        events=[EventRecord(topic, version, state)],
    )
    await store.append([commit])


def rows(warehouse: Warehouse, sql: str) -> list[dict[str, Any]]:
    result: QueryResult = warehouse.query(sql)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


async def decisions_and_announcements(url: str, community: str, members: list[str]) -> None:
    """A poll with two voters (one votes twice) and an announcement two members read."""
    import nats

    nc = await nats.connect(url)
    key = SigningKey.generate()
    governance = await EventStore(nc, StreamSettings(StreamSubjects.for_service("governance")), key).start()
    messaging = await EventStore(nc, StreamSettings(StreamSubjects.for_service("messaging")), key).start()
    try:
        poll = {"community": community, "poll": "p1"}
        await record(
            governance,
            community,
            "poll",
            "p1",
            "governance.poll_created.v1",
            **poll,
            spec={"title": "Budget"},
        )
        await record(
            governance, community, "poll", "p1", "governance.poll_opened.v1", snapshot="s", root="r", size=3
        )
        for voter in (members[0], members[1], members[1]):
            statement = {"actor": voter}
            await record(
                governance, community, "ballot", f"b{voter[-6:]}", "governance.ballot_cast.v1",
                **poll, voter=voter, cast_by=voter, choice=[0], statement=statement,
            )  # fmt: skip
        sent = {"announcement": "a1", "title": "Hello", "recipients": members}
        await record(messaging, community, "announcement", "a1", "messaging.announcement_sent.v1", **sent)
        for reader in members[:2]:
            await record(
                messaging, community, "reads", reader[-8:], "messaging.announcement_read.v1",
                member=reader, announcement="a1", statement={"actor": reader},
            )  # fmt: skip
    finally:
        await governance.close()
        await messaging.close()
        await nc.close()


async def cos_sql(*args: str, url: str) -> tuple[int, str]:
    """`cos sql …` in a thread (its own event loop), beside the services of this one."""

    def run() -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(["sql", *args, "--nats-url", url])
        return code, out.getvalue()

    return await asyncio.to_thread(run)


async def test_events_load_into_the_warehouse_and_the_views_answer(
    own_nats_server: NatsServer, tmp_path: Path
) -> None:
    community, other = unique_service("c"), unique_service("o")
    url = own_nats_server.url
    async with deployment(url, tmp_path / "d", "wh.example") as d:
        people = []
        for slug in (community, other):
            ada = await Person(d.http, slug).sign_in()
            made = await d.http.post(
                f"/c/{slug}",
                json={"name": "Co-op", "statement": ada.sign("membership.create_community", {"name": "Ada"})},
                headers=ada.auth,
            )
            assert made.status_code == 201, made.text
            people.append(ada)
        members = [people[0].did]
        for name in ("Bea", "Cy"):
            someone = await Person(d.http, community).sign_in()
            await d.http.post(
                f"/c/{community}/apply", json={"statement": someone.sign("membership.apply", {"name": name})}
            )
            assert (await people[0].act("admit", {"member": someone.did})).status_code == 200
            members.append(someone.did)
        await decisions_and_announcements(url, community, members)

        warehouse = open_warehouse(tmp_path / "wh")
        try:
            import nats

            nc = await nats.connect(url)
            try:
                loaded = await load_streams(nc, warehouse)
                assert loaded.commits["MEMBERSHIP"] > 0
                assert (await load_streams(nc, warehouse)).events == 0  # incremental: nothing new
            finally:
                await nc.close()
            growth = rows(warehouse, f"SELECT * FROM membership_growth WHERE community = '{community}'")
            assert [(g["joined"], g["left"], g["members"]) for g in growth] == [(3, 0, 3)]
            participation = rows(
                warehouse,
                f"SELECT stream, members FROM participation WHERE community = '{community}' ORDER BY stream",
            )
            assert {p["stream"]: p["members"] for p in participation}["GOVERNANCE"] == 2
            assert {p["stream"]: p["members"] for p in participation}["MEMBERSHIP"] == 3
            turnout = rows(warehouse, "SELECT * FROM turnout_per_poll")
            assert [(t["community"], t["title"], t["eligible"], t["voters"]) for t in turnout] == [
                (community, "Budget", 3, 2)
            ]
            assert abs(turnout[0]["turnout"] - 2 / 3) < 1e-9
            reach = rows(warehouse, "SELECT community, recipients, readers, reach FROM announcement_reach")
            assert reach == [{"community": community, "recipients": 3, "readers": 2, "reach": 2 / 3}]
            kinds = rows(
                warehouse,
                f"SELECT DISTINCT community FROM events WHERE community IN ('{community}', '{other}')",
            )
            assert {k["community"] for k in kinds} == {community, other}
        finally:
            warehouse.close()

        # `cos sql` on a warehouse of one community: the other community is not in it.
        code, out = await cos_sql(
            "--community", community, "--data-dir", str(tmp_path / "cli"), "--format", "json",
            "SELECT community, count() AS n FROM events GROUP BY community", url=url,
        )  # fmt: skip
        assert code == 0, out
        assert [r["community"] for r in json.loads(out)] == [community]
        code, out = await cos_sql(
            "--data-dir", str(tmp_path / "cli"), "--community", community, "SELECT nope", url=url
        )
        assert code == 1
        assert "nope" in out


async def test_the_projection_keeps_the_warehouse_level_with_the_streams(nats_url: str) -> None:
    import nats

    from services.transparency.warehouse import WarehouseProjection
    from shared.testkit.polling import eventually

    community = unique_service("p")
    nc = await nats.connect(nats_url)
    settings = StreamSettings(StreamSubjects.for_service(unique_service("w")))
    store = await EventStore(nc, settings, SigningKey.generate()).start()
    stream = settings.subjects.stream
    projection = WarehouseProjection(nc, open_warehouse(None), streams=(stream,), fetch_wait_s=0.1)
    try:
        await record(store, community, "thing", "t1", "w.thing_made.v1", by="did:key:zA")
        await projection.start()

        def count() -> int:
            sql = f"SELECT count() FROM events WHERE community = '{community}'"
            return int(projection.warehouse.query(sql).rows[0][0])

        assert await eventually(lambda: count() == 1, within=30)
        await record(store, community, "thing", "t1", "w.thing_made.v1", by="did:key:zB")
        assert await eventually(lambda: count() == 2, within=30)
        actors = projection.warehouse.query(
            f"SELECT actor FROM events WHERE community = '{community}' ORDER BY sequence"
        )
        assert actors.rows == [["did:key:zA"], ["did:key:zB"]]
    finally:
        await projection.stop()
        await store.close()
        await nc.jetstream().delete_stream(stream)
        await nc.close()


@pytest.mark.parametrize("interrupted", [False, True], ids=["fresh", "interrupted after the rename"])
def test_a_warehouse_made_before_rows_were_keyed_keeps_its_rows(tmp_path: Path, interrupted: bool) -> None:
    """The first schema kept rows in a plain MergeTree table `events`; opening such a warehouse
    moves them into `event_rows` once and makes `events` the view that reads one row per event,
    also when an earlier start died after moving the old table aside and before copying it."""
    from chdb import session

    old = session.Session(str(tmp_path))  # type: ignore[no-untyped-call]
    old.query(
        """CREATE TABLE events (
            stream LowCardinality(String), community String, subject String,
            aggregate LowCardinality(String), aggregate_id String, sequence UInt64, commit_id String,
            event_index UInt32, event_type LowCardinality(String), version UInt64, timestamp_ns UInt64,
            timestamp DateTime64(9, 'UTC') ALIAS fromUnixTimestamp64Nano(toInt64(timestamp_ns), 'UTC'),
            signer String, actor String, payload String
        ) ENGINE = MergeTree ORDER BY (community, stream, sequence, event_index)"""
    )
    for seq in (1, 2):
        old.query(
            "INSERT INTO events (stream, community, subject, aggregate, aggregate_id, sequence, commit_id, "
            "event_index, event_type, version, timestamp_ns, signer, actor, payload) VALUES "
            f"('MEMBERSHIP', 'acme', 'membership.acme.member.m{seq}', 'member', 'm{seq}', {seq}, 'c{seq}', "
            f"0, 'membership.member_admitted.v1', 1, 1700000000000000000, 'did:key:zS', 'did:key:zA', '{{}}')"
        )
    if interrupted:
        old.query("RENAME TABLE events TO events_before_keyed_rows")
    old.close()  # type: ignore[no-untyped-call]

    warehouse = open_warehouse(tmp_path)
    try:
        engines = warehouse.query(
            "SELECT name, engine FROM system.tables WHERE database = currentDatabase() "
            "AND name IN ('events', 'event_rows') ORDER BY name"
        )
        assert engines.rows == [["event_rows", "ReplacingMergeTree"], ["events", "View"]]
        leftover = warehouse.query(
            "SELECT count() FROM system.tables WHERE name = 'events_before_keyed_rows'"
        )
        assert leftover.rows == [[0]]
        moved = warehouse.query(
            "SELECT sequence, aggregate_id, toYear(timestamp) FROM events ORDER BY sequence"
        )
        assert moved.rows == [[1, "m1", 2023], [2, "m2", 2023]]
    finally:
        warehouse.close()
    reopened = open_warehouse(tmp_path)  # a second open finds the new schema and moves nothing
    try:
        assert reopened.query("SELECT count() FROM events").rows == [[2]]
    finally:
        reopened.close()


def test_replicas_opening_an_old_warehouse_at_once_move_its_rows_once(tmp_path: Path) -> None:
    """Several warehouse replicas start together on a warehouse of the first schema, each through
    its own clickhouse-connect client: whichever wins each step, every start succeeds, the old
    table is gone, and each old row is one row of `events`."""
    import clickhouse_connect

    from services.transparency.warehouse import ClickHouseWarehouse

    admin = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path}")
    try:
        admin.command("CREATE DATABASE IF NOT EXISTS old_schema")
        admin.command(
            """CREATE TABLE old_schema.events (
                stream LowCardinality(String), community String, subject String,
                aggregate LowCardinality(String), aggregate_id String, sequence UInt64,
                commit_id String, event_index UInt32, event_type LowCardinality(String),
                version UInt64, timestamp_ns UInt64, signer String, actor String, payload String
            ) ENGINE = MergeTree ORDER BY (community, stream, sequence, event_index)"""
        )
        admin.command(
            "INSERT INTO old_schema.events SELECT 'MEMBERSHIP', 'acme', concat('membership.acme.member.m', "
            "toString(number)), 'member', concat('m', toString(number)), number + 1, concat('c', "
            "toString(number)), 0, 'membership.member_admitted.v1', 1, 1700000000000000000, "
            "'did:key:zS', 'did:key:zA', '{}' FROM numbers(5000)"
        )
        replicas = 4
        gate = threading.Barrier(replicas)
        opened: list[ClickHouseWarehouse] = []
        failures: list[BaseException] = []

        def start() -> None:
            client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path}", database="old_schema")
            gate.wait()
            try:
                opened.append(ClickHouseWarehouse(f"chdb://{tmp_path}", client=client))
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=start) for _ in range(replicas)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert failures == []
        assert len(opened) == replicas
        after = opened[0]
        tables = after.query(
            "SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name"
        ).rows
        assert ["events", "View"] in tables
        assert ["event_rows", "ReplacingMergeTree"] in tables
        assert not [name for name, _ in tables if name == "events_before_keyed_rows"]
        counted = after.query("SELECT count(), uniqExact(sequence), min(sequence), max(sequence) FROM events")
        assert counted.rows == [[5000, 5000, 1, 5000]]
        for each in opened:
            each.close()
    finally:
        admin.close()
