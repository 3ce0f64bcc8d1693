"""The warehouse: every committed event as a row in ClickHouse, with views for auditors and dashboards.

One interface (`Warehouse`) over two engines: chdb, ClickHouse embedded in this process (the
default: a directory on disk, or a temporary one), and a ClickHouse server (MIN_SERVER_VERSION or
newer, checked when it is opened) through clickhouse-connect. Two loaders fill it:

- `load_streams` (what `cos sql` runs before a query) reads commits from the streams (Direct Get
  batches, in stream order), resuming after the highest stream sequence already loaded;
- `WarehouseProjection` (the `warehouse` service) keeps a warehouse level with the streams through
  one shared durable consumer per stream (`shared/projection.py`): run it in as many processes as
  you like against one ClickHouse server and the streams' commits are divided between them.

Each decodes an event's msgpack state to JSON and writes one row per event into `event_rows`, a
ReplacingMergeTree keyed by (community, stream, sequence, event_index), so a commit loaded twice
is still one row. Query the view `events`, which reads the rows FINAL (one per event):

    stream, community, subject, aggregate, aggregate_id, sequence, commit_id, event_index,
    event_type, version, timestamp_ns, timestamp (DateTime64(9, 'UTC')), signer (service
    did:key), actor (the member's DID from the signed statement, else `by`/`voter`/`member`/`did`),
    payload (the event as JSON; bytes as base64)

Views: `membership_growth`, `participation`, `turnout_per_poll`, `announcement_reach`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS

from shared.bundle import Bundle
from shared.envelope import Commit, EnvelopeError, peek_body
from shared.jetstream.errors import StreamNotFound
from shared.jetstream.reader import StreamReader
from shared.projection import Delivery, ProjectionWorker
from shared.subjects import check_token
from shared.transparency.layout import LOGGED_STREAMS, stream_prefix

__all__ = [
    "MIN_SERVER_VERSION",
    "SCHEMA",
    "VIEWS",
    "ChdbWarehouse",
    "ClickHouseWarehouse",
    "LoadSummary",
    "QueryResult",
    "Warehouse",
    "WarehouseError",
    "WarehouseProjection",
    "event_rows",
    "load_bundle",
    "load_streams",
    "open_warehouse",
]


log = logging.getLogger(__name__)


class WarehouseError(RuntimeError):
    """The warehouse refused a statement or cannot be reached; the message is the engine's."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    types: list[str]
    rows: list[list[Any]]


class Warehouse(Protocol):
    def execute(self, sql: str) -> None: ...

    def query(self, sql: str) -> QueryResult: ...

    def insert_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


ROWS_TABLE = "event_rows"

# The columns of a row, in table order (`timestamp` is computed from `timestamp_ns`).
COLUMNS = (
    "stream", "community", "subject", "aggregate", "aggregate_id", "sequence", "commit_id",
    "event_index", "event_type", "version", "timestamp_ns", "timestamp", "signer", "actor", "payload",
)  # fmt: skip

# Rows are keyed by (community, stream, sequence, event_index) and collapse on merge: a commit that
# reaches the table twice (a projection worker that died after inserting and before acknowledging,
# a `cos sql` catch-up racing the workers) is one row again. `events` reads the table FINAL, so
# every query sees each event once even before the merge.
SCHEMA = [
    f"""
    CREATE TABLE IF NOT EXISTS {ROWS_TABLE} (
        stream LowCardinality(String),
        community String,
        subject String,
        aggregate LowCardinality(String),
        aggregate_id String,
        sequence UInt64,
        commit_id String,
        event_index UInt32,
        event_type LowCardinality(String),
        version UInt64,
        timestamp_ns UInt64,
        timestamp DateTime64(9, 'UTC') ALIAS fromUnixTimestamp64Nano(toInt64(timestamp_ns), 'UTC'),
        signer String,
        actor String,
        payload String
    ) ENGINE = ReplacingMergeTree ORDER BY (community, stream, sequence, event_index)
    """,
    f"CREATE OR REPLACE VIEW events AS SELECT {', '.join(COLUMNS)} FROM {ROWS_TABLE} FINAL",  # noqa: S608
]

VIEWS = {
    # Members joining and leaving per day, and the running count of members.
    "membership_growth": """
        SELECT community, day, joined, left, sum(joined - left) OVER (
            PARTITION BY community ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS members
        FROM (
            SELECT community, toDate(timestamp) AS day,
                countIf(event_type = 'membership.member_admitted.v1') AS joined,
                countIf(event_type IN ('membership.member_left.v1', 'membership.member_removed.v1')) AS left
            FROM events WHERE stream = 'MEMBERSHIP'
            GROUP BY community, day
        )
        ORDER BY community, day
    """,
    # Distinct members acting (signed statements) and their acts, per month and module.
    "participation": """
        SELECT community, toStartOfMonth(timestamp) AS month, stream,
            uniqExact(actor) AS members, count() AS acts
        FROM events WHERE actor != ''
        GROUP BY community, month, stream
        ORDER BY community, month, stream
    """,
    # Per poll: members eligible on the roll it opened on, distinct voters, turnout.
    "turnout_per_poll": """
        SELECT p.community AS community, p.poll AS poll, p.title AS title, o.eligible AS eligible,
            b.voters AS voters, if(o.eligible > 0, b.voters / o.eligible, NULL) AS turnout
        FROM (
            SELECT community, subject, any(JSONExtractString(payload, 'poll')) AS poll,
                any(JSONExtractString(payload, 'spec', 'title')) AS title
            FROM events WHERE event_type = 'governance.poll_created.v1' GROUP BY community, subject
        ) AS p
        LEFT JOIN (
            SELECT subject, argMax(JSONExtractUInt(payload, 'size'), sequence) AS eligible
            FROM events WHERE event_type = 'governance.poll_opened.v1' GROUP BY subject
        ) AS o ON o.subject = p.subject
        LEFT JOIN (
            SELECT community, JSONExtractString(payload, 'poll') AS poll,
                uniqExact(JSONExtractString(payload, 'voter')) AS voters
            FROM events WHERE event_type = 'governance.ballot_cast.v1' GROUP BY community, poll
        ) AS b ON b.community = p.community AND b.poll = p.poll
        ORDER BY community, poll
    """,
    # Per announcement sent: its recipients, distinct members who read it, reach.
    "announcement_reach": """
        SELECT s.community AS community, s.announcement AS announcement, s.title AS title,
            s.sent_at AS sent_at, s.recipients AS recipients, r.readers AS readers,
            if(s.recipients > 0, r.readers / s.recipients, NULL) AS reach
        FROM (
            SELECT community, JSONExtractString(payload, 'announcement') AS announcement,
                any(JSONExtractString(payload, 'title')) AS title, min(timestamp) AS sent_at,
                max(length(JSONExtractArrayRaw(payload, 'recipients'))) AS recipients
            FROM events WHERE event_type = 'messaging.announcement_sent.v1'
            GROUP BY community, announcement
        ) AS s
        LEFT JOIN (
            SELECT community, JSONExtractString(payload, 'announcement') AS announcement,
                uniqExact(JSONExtractString(payload, 'member')) AS readers
            FROM events WHERE event_type = 'messaging.announcement_read.v1'
            GROUP BY community, announcement
        ) AS r ON r.community = s.community AND r.announcement = s.announcement
        ORDER BY community, sent_at
    """,
}


def _old_tables(warehouse: Warehouse) -> dict[str, str]:
    """Engine by name of `events` and of the table its old rows are moved aside to, if present."""
    found = warehouse.query(
        "SELECT name, engine FROM system.tables WHERE database = currentDatabase() "
        "AND name IN ('events', 'events_before_keyed_rows')"
    )
    return {str(name): str(engine) for name, engine in found.rows}


def _migrate_plain_events_table(warehouse: Warehouse) -> None:
    """Warehouses made before rows were keyed kept them in a plain MergeTree table `events`: move
    its rows into `event_rows` once, so that `events` can become the view that reads them FINAL.

    Safe to interrupt and to run from several replicas at once: the old table is first renamed
    aside (one replica wins; the others find it gone), and a start that finds the renamed table
    still there finishes the copy. Copying twice is harmless, the rows being keyed."""
    tables = _old_tables(warehouse)
    if tables.get("events") not in (None, "View"):
        log.info("warehouse: moving the rows of the old events table into %s", ROWS_TABLE)
        try:
            warehouse.execute("RENAME TABLE events TO events_before_keyed_rows")
        except WarehouseError:
            log.info("warehouse: the old events table was moved aside by another process")
        tables = _old_tables(warehouse)
    if "events_before_keyed_rows" not in tables:
        return
    warehouse.execute(SCHEMA[0])
    columns = ", ".join(c for c in COLUMNS if c != "timestamp")
    try:
        warehouse.execute(
            f"INSERT INTO {ROWS_TABLE} ({columns}) SELECT {columns} FROM events_before_keyed_rows"  # noqa: S608
        )
    except WarehouseError:
        if "events_before_keyed_rows" in _old_tables(warehouse):
            raise
        # Another replica finished the copy and dropped the old table under ours: done.
        log.info("warehouse: the old rows were moved by another process")
        return
    warehouse.execute("DROP TABLE IF EXISTS events_before_keyed_rows")


def create_schema(warehouse: Warehouse) -> None:
    _migrate_plain_events_table(warehouse)
    for statement in SCHEMA:
        warehouse.execute(statement)
    for name, body in VIEWS.items():
        warehouse.execute(f"CREATE OR REPLACE VIEW {name} AS {body}")


# -- engines -------------------------------------------------------------------------------------


def _json_result(raw: bytes) -> QueryResult:
    if not raw.strip():
        return QueryResult([], [], [])
    decoded = json.loads(raw)
    meta = decoded.get("meta", [])
    return QueryResult([m["name"] for m in meta], [m["type"] for m in meta], decoded.get("data", []))


def _json_each_row(rows: Sequence[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in rows)


class ChdbWarehouse:
    """ClickHouse embedded in this process (chdb). One open session per process at a time."""

    def __init__(self, path: Path | None = None) -> None:
        from chdb import session  # imported here: loading the engine takes most of a second

        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cos-warehouse-")
            path = Path(self._tmp.name)
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._session = session.Session(str(path))  # type: ignore[no-untyped-call]
        # One statement at a time: projection workers insert from threads, and a chdb session is
        # not documented as safe to share between threads.
        self._lock = threading.Lock()
        create_schema(self)

    def _run(self, sql: str, fmt: str = "CSV") -> bytes:
        try:
            with self._lock:
                result = self._session.query(sql, fmt)  # type: ignore[no-untyped-call]
        except RuntimeError as exc:  # chdb reports the engine's error text as a RuntimeError
            raise WarehouseError(str(exc).strip()) from exc
        data: bytes = result.bytes()
        return data

    def execute(self, sql: str) -> None:
        self._run(sql)

    def query(self, sql: str) -> QueryResult:
        return _json_result(self._run(sql, "JSONCompact"))

    def insert_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Rows go through a JSONEachRow file: about twice as fast as inlining them in the statement."""
        if not rows:
            return
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", dir=self.path, delete=False) as handle:
            handle.write(_json_each_row(rows))
        try:
            quoted = handle.name.replace("\\", "\\\\").replace("'", "\\'")
            self._run(f"INSERT INTO {table} FROM INFILE '{quoted}' FORMAT JSONEachRow")
        finally:
            Path(handle.name).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:  # never under a statement another thread is still running
            self._session.close()  # type: ignore[no-untyped-call]
        if self._tmp is not None:
            self._tmp.cleanup()


# The oldest server the warehouse claims: the schema needs DateTime64 and fromUnixTimestamp64Nano,
# the views window functions and CREATE OR REPLACE VIEW, and clickhouse-connect itself reads columns
# of system.settings that old servers lack. 22.8 is the oldest long-term release with all of them.
MIN_SERVER_VERSION = (22, 8)


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split(".")[:2]:
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def server_version(url: str, timeout_s: float = 5.0) -> str:
    """What `SELECT version()` answers over the HTTP interface (raises WarehouseError when unreachable)."""
    import ssl
    import urllib.error
    import urllib.request

    parsed = urlparse(url)
    host, port = parsed.hostname or "localhost", parsed.port or (8443 if parsed.scheme == "https" else 8123)
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked by open_warehouse
        f"{parsed.scheme}://{host}:{port}/?query=SELECT%20version()",
        headers={
            "X-ClickHouse-User": parsed.username or "default",
            "X-ClickHouse-Key": parsed.password or "",
        },
    )
    context = ssl.create_default_context() if parsed.scheme == "https" else None
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=context) as reply:  # noqa: S310
            return str(reply.read().decode().strip())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace").strip()
        raise WarehouseError(f"ClickHouse at {host}:{port} refused: {exc.code} {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise WarehouseError(f"cannot reach ClickHouse at {host}:{port}: {exc}") from exc


# Results read the same from either engine: 64-bit numbers as JSON numbers (chdb's defaults; a
# server's default quotes 64-bit integers as strings, so `max(sequence)` or `count()` came back as text).
_JSON_SETTINGS = {
    "output_format_json_quote_64bit_integers": 0,
    "output_format_json_quote_64bit_floats": 0,
    "output_format_json_quote_decimals": 0,
}


class ClickHouseWarehouse:
    """A ClickHouse server through clickhouse-connect (`http[s]://user:password@host:port/database`).

    The server must be ClickHouse MIN_SERVER_VERSION or newer; an older one is refused up front with
    its version named, rather than failing later on the first view.
    """

    def __init__(self, url: str, *, client: Any = None) -> None:
        """Connect to the server at `url`; or, with `client`, use that clickhouse-connect client as it
        is (its `server_version` is checked the same way; `url` then only names it in messages)."""
        import clickhouse_connect
        from clickhouse_connect.driver.exceptions import ClickHouseError

        self._errors = ClickHouseError
        parsed = urlparse(url)
        self.version = str(client.server_version) if client is not None else server_version(url)
        if _version_tuple(self.version) < MIN_SERVER_VERSION:
            minimum = ".".join(map(str, MIN_SERVER_VERSION))
            raise WarehouseError(
                f"ClickHouse {self.version} at {parsed.hostname}:{parsed.port} is older than {minimum}, "
                "the oldest the warehouse supports (it needs DateTime64, window functions and "
                "CREATE OR REPLACE VIEW)"
            )
        if client is not None:
            self._client = client
        else:
            try:
                self._client = clickhouse_connect.get_client(
                    host=parsed.hostname or "localhost",
                    port=parsed.port or (8443 if parsed.scheme == "https" else 8123),
                    username=parsed.username or "default",
                    password=parsed.password or "",
                    database=parsed.path.strip("/") or "default",
                    secure=parsed.scheme == "https",
                    # Projection workers insert from several threads at once; a shared server-side
                    # session would refuse concurrent statements, and none of ours needs one.
                    autogenerate_session_id=False,
                )
            except ClickHouseError as exc:
                raise WarehouseError(
                    f"cannot reach ClickHouse at {parsed.hostname}:{parsed.port}: {exc}"
                ) from exc
        try:
            create_schema(self)
        except WarehouseError:
            self._client.close()
            raise

    def execute(self, sql: str) -> None:
        try:
            self._client.command(sql)
        except self._errors as exc:
            raise WarehouseError(str(exc)) from exc

    def query(self, sql: str) -> QueryResult:
        try:
            raw = self._client.raw_query(sql, settings=_JSON_SETTINGS, fmt="JSONCompact")
        except self._errors as exc:
            raise WarehouseError(str(exc)) from exc
        return _json_result(raw)

    def insert_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        try:
            self._client.insert(table, [[r[c] for c in columns] for r in rows], column_names=columns)
        except self._errors as exc:
            raise WarehouseError(str(exc)) from exc

    def close(self) -> None:
        self._client.close()


def open_warehouse(target: str | Path | None) -> Warehouse:
    """`http(s)://…` is a ClickHouse server; anything else is a chdb directory (None: temporary)."""
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        return ClickHouseWarehouse(target)
    return ChdbWarehouse(Path(target) if target is not None else None)


# -- rows ----------------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot encode {type(value).__name__}")


_ACTOR_FIELDS = ("by", "voter", "member", "did")


def _payload(state: bytes) -> tuple[str, str]:
    """The event as JSON and the member who acted (empty when none is named)."""
    try:
        fields = msgspec.msgpack.decode(state)
    except msgspec.DecodeError:
        return json.dumps({"undecodable": base64.b64encode(state).decode()}), ""
    try:
        text = json.dumps(fields, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = json.dumps({"unrepresentable": repr(fields)})
    actor = ""
    if isinstance(fields, dict):
        statement = fields.get("statement")
        if isinstance(statement, dict) and isinstance(statement.get("actor"), str):
            actor = statement["actor"]
        else:
            actor = next((fields[k] for k in _ACTOR_FIELDS if isinstance(fields.get(k), str)), "")
    return text, actor


def event_rows(stream: str, sequence: int, data: bytes) -> list[dict[str, Any]]:
    """One row per event of a stored commit (none for a tracking marker or an unreadable message)."""
    try:
        _, body = peek_body(data)
    except EnvelopeError:
        return []
    if not isinstance(body, Commit):
        return []
    _, community, aggregate, aggregate_id = body.subject.split(".")
    rows = []
    for index, event in enumerate(body.events):
        payload, actor = _payload(event.state)
        rows.append(
            {
                "stream": stream,
                "community": community,
                "subject": body.subject,
                "aggregate": aggregate,
                "aggregate_id": aggregate_id,
                "sequence": sequence,
                "commit_id": body.commit_id,
                "event_index": index,
                "event_type": event.topic,
                "version": event.version,
                "timestamp_ns": body.timestamp_ns,
                "signer": body.signer,
                "actor": actor,
                "payload": payload,
            }
        )
    return rows


# -- loading -------------------------------------------------------------------------------------


@dataclass
class LoadSummary:
    commits: dict[str, int] = field(default_factory=dict)
    events: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"commits": self.commits, "events": self.events}


def loaded_up_to(warehouse: Warehouse, community: str | None = None) -> dict[str, int]:
    """The highest stream sequence loaded per stream (of one community, or of all)."""
    where = f"WHERE community = '{check_token(community, 'community')}'" if community else ""
    sql = f"SELECT stream, max(sequence) FROM {ROWS_TABLE} {where} GROUP BY stream"  # noqa: S608 - a checked token
    result = warehouse.query(sql)
    return {str(stream): int(seq) for stream, seq in result.rows}


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def load_streams(
    nc: NATS,
    warehouse: Warehouse,
    *,
    community: str | None = None,
    streams: Sequence[str] = LOGGED_STREAMS,
    insert_batch: int = 20_000,
) -> LoadSummary:
    """Load every commit stored since the last load (of one community, or all) into `warehouse`."""
    done = loaded_up_to(warehouse, community)
    summary = LoadSummary()
    for stream in streams:
        reader = StreamReader(nc, stream)
        subject = f"{stream_prefix(stream)}.{community}.>" if community else f"{stream_prefix(stream)}.*.*.*"
        pending: list[dict[str, Any]] = []
        count = 0
        try:
            async for page in reader.scan(done.get(stream, 0) + 1, subject):
                for raw in page:
                    pending.extend(event_rows(stream, raw.seq, raw.data))
                count += len(page)
                if len(pending) >= insert_batch:
                    await asyncio.to_thread(warehouse.insert_rows, ROWS_TABLE, pending)
                    summary.events += len(pending)
                    pending = []
        except StreamNotFound:
            continue
        if pending:
            await asyncio.to_thread(warehouse.insert_rows, ROWS_TABLE, pending)
            summary.events += len(pending)
        if count:
            summary.commits[stream] = count
    return summary


def load_bundle(bundle: Bundle, warehouse: Warehouse, *, insert_batch: int = 20_000) -> LoadSummary:
    """Load a bundle's commits (its stream sequences as exported) into an empty warehouse."""
    if loaded_up_to(warehouse):
        raise WarehouseError("a bundle is loaded into an empty warehouse")
    summary = LoadSummary()
    for stream in bundle.streams:
        rows = (row for c in bundle.commits(stream) for row in event_rows(stream, c.sequence, c.data))
        for batch in _batches(rows, insert_batch):
            warehouse.insert_rows(ROWS_TABLE, batch)
            summary.events += len(batch)
        summary.commits[stream] = len(bundle.commits(stream))
    return summary


def default_path(data_dir: Path, community: str | None) -> Path:
    base = Path(os.environ.get("COS_WAREHOUSE_DIR", data_dir / "warehouse"))
    return base / (community or "_all")


@contextlib.contextmanager
def opened(target: str | Path | None) -> Iterator[Warehouse]:
    warehouse = open_warehouse(target)
    try:
        yield warehouse
    finally:
        warehouse.close()


class WarehouseProjection:
    """Keeps a warehouse level with the streams: one `ProjectionWorker` per stream, all named
    `name`, so every process running this projection shares the streams' commits with the others.

    Run by the warehouse service (`cos serve warehouse`) with `COS_WAREHOUSE` naming a ClickHouse
    server; with a chdb directory, only the one process holding it can run the projection.
    """

    def __init__(
        self,
        nc: NATS,
        warehouse: Warehouse,
        *,
        streams: Sequence[str] = LOGGED_STREAMS,
        name: str = "warehouse",
        batch: int = 2_000,
        ack_wait_s: float = 60.0,
        fetch_wait_s: float = 1.0,
        retry_s: float = 5.0,
    ) -> None:
        self.nc = nc
        self.streams = streams
        self.warehouse = warehouse
        self.name = name
        self.loaded = LoadSummary()
        self.workers = [
            ProjectionWorker(
                nc,
                stream,
                name,
                self._loader(stream),
                filter_subject=f"{stream_prefix(stream)}.*.*.*",
                batch=batch,
                ack_wait_s=ack_wait_s,
                fetch_wait_s=fetch_wait_s,
            )
            for stream in streams
        ]
        self._started: list[ProjectionWorker] = []
        self._waiting: list[asyncio.Task[None]] = []
        self.retry_s = retry_s

    def _loader(self, stream: str) -> Callable[[Sequence[Delivery]], Awaitable[None]]:
        async def load(deliveries: Sequence[Delivery]) -> None:
            rows = [row for d in deliveries for row in event_rows(stream, d.sequence, d.data)]
            if rows:
                await asyncio.to_thread(self.warehouse.insert_rows, ROWS_TABLE, rows)
            self.loaded.events += len(rows)
            self.loaded.commits[stream] = self.loaded.commits.get(stream, 0) + len(deliveries)

        return load

    async def start(self) -> None:
        """Bind to (or create) each stream's consumer; a stream not provisioned yet is waited for
        in the background (looked for every `retry_s`) while the others load."""
        for worker in self.workers:
            if not await self._start(worker):
                self._waiting.append(asyncio.get_running_loop().create_task(self._start_later(worker)))

    async def _start(self, worker: ProjectionWorker) -> bool:
        try:
            await worker.start()
        except nats.js.errors.NotFoundError:
            return False
        self._started.append(worker)
        return True

    async def _start_later(self, worker: ProjectionWorker) -> None:
        log.warning("warehouse: stream %s does not exist yet; loading it once it does", worker.stream)
        while True:
            await asyncio.sleep(self.retry_s)
            try:
                if await self._start(worker):
                    log.info("warehouse: stream %s appeared; loading it", worker.stream)
                    return
            except (nats.errors.Error, nats.js.errors.Error, TimeoutError):
                log.warning("warehouse: cannot bind to %s yet", worker.stream, exc_info=True)

    async def pending(self) -> int:
        """Commits of every stream that no worker of this projection has loaded yet."""
        return sum([await worker.pending() for worker in self._started])

    async def stop(self, *, close: bool = True, grace_s: float | None = None) -> None:
        for waiting in self._waiting:
            waiting.cancel()
        await asyncio.gather(*self._waiting, return_exceptions=True)
        self._waiting = []
        # Together: each finishes the batch it is applying (or its idle fetch) at the same time.
        await asyncio.gather(*(worker.stop(grace_s) for worker in self._started))
        self._started = []
        if close:
            await asyncio.to_thread(self.warehouse.close)
