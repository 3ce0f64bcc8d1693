"""One trace from the gateway through NATS to the services and their projections; metrics and logs."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS
from opentelemetry.sdk.metrics.export import HistogramDataPoint, MetricsData, NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.membership.bootstrap import MembershipService, start_membership
from services.membership.projections.roll import RollView
from shared.catchup import CatchUp
from shared.projection import Delivery, ProjectionWorker
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.subjects import community_filter
from shared.telemetry import JsonLogFormatter, Telemetry, setup_telemetry, span_in_context
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually, eventually_async
from shared.trust.member_keys import MemberKeys

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


class Recording(SimpleSpanProcessor):
    """Hands ended spans to the exporter while the tests of this module run (an SDK provider
    cannot drop a processor, so it is switched off instead of shut down)."""

    active = True

    def on_end(self, span: ReadableSpan) -> None:
        if self.active:
            super().on_end(span)


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    processor = Recording(exporter)
    setup_telemetry(span_processors=[processor])
    yield exporter
    processor.active = False
    exporter.clear()


@dataclass
class Platform:
    http: httpx.AsyncClient
    membership: MembershipService
    telemetry: Telemetry


@pytest.fixture
async def platform(
    nc: NATS, nats_url: str, tmp_path: Path, spans: InMemorySpanExporter
) -> AsyncIterator[Platform]:
    identity = await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings())
    membership = await start_membership(nc, nats_url, tmp_path / "membership")
    app = create_app(GatewaySettings(nats_url=nats_url), [])
    app.state.nats = nc
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield Platform(client, membership, app.state.telemetry)
    finally:
        await membership.stop()
        await identity.stop()


class Person:
    def __init__(self, http: httpx.AsyncClient, community: str) -> None:
        self.keys = MemberKeys(SigningKey.generate())
        self.http, self.community = http, community
        self.auth: dict[str, str] = {}

    def sign(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        return sign_statement(
            self.keys, action=action, community=self.community, body=body,
            nonce=secrets.token_hex(16), now=datetime.now(tz=UTC),
        )  # fmt: skip

    async def sign_in(self) -> Person:
        base = f"/c/{self.community}/auth"
        challenge = (await self.http.post(f"{base}/challenge", json={"member": self.keys.did})).json()
        answer = self.sign("identity.sign_in", {"challenge": challenge["challenge"]})
        tokens = (await self.http.post(f"{base}/sign-in", json={"statement": answer})).json()
        self.auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        return self


async def form_community(http: httpx.AsyncClient, community: str) -> tuple[Person, Person]:
    ada = await Person(http, community).sign_in()
    created = await http.post(
        f"/c/{community}",
        json={"name": "Traced Co-op", "statement": ada.sign("membership.create_community", {"name": "Ada"})},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    bea = await Person(http, community).sign_in()
    applied = await http.post(
        f"/c/{community}/apply", json={"statement": bea.sign("membership.apply", {"name": "Bea"})}
    )
    assert applied.status_code == 200, applied.text
    return ada, bea


def trace_of(spans: InMemorySpanExporter, trace_id: str) -> list[ReadableSpan]:
    wanted = int(trace_id, 16)
    return [s for s in spans.get_finished_spans() if s.context is not None and s.context.trace_id == wanted]


def parent_chain(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        ancestor = by_id[parent.span_id]
        names.append(ancestor.name)
        parent = ancestor.parent
    return names


async def test_one_trace_spans_gateway_service_store_and_projection(
    platform: Platform, spans: InMemorySpanExporter
) -> None:
    community = unique_service("c")
    ada, bea = await form_community(platform.http, community)
    admitted = await platform.http.post(
        f"/c/{community}/acts/admit",
        json={"statement": ada.sign("membership.admit", {"member": bea.keys.did})},
        headers={**ada.auth, "traceparent": f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"},
    )
    assert admitted.status_code == 200, admitted.text
    roll = await platform.http.get(f"/c/{community}/roll", headers=ada.auth)  # a later, separate trace
    assert bea.keys.did in roll.json()["members"]
    # The follower thread ends its span just after the read models have the commit (the roll
    # query waits for those, not for the span): wait for the span to reach the exporter.
    assert await eventually(
        lambda: any(s.name == "apply MEMBERSHIP" for s in trace_of(spans, CALLER_TRACE))
    ), "the projection that applied the admission did not continue its trace"

    traced = trace_of(spans, CALLER_TRACE)
    by_id = {s.context.span_id: s for s in traced if s.context is not None}
    gateway = [s for s in traced if s.kind is SpanKind.SERVER and s.name.startswith("POST ")]
    assert [s.name for s in gateway] == ["POST /c/{community}/acts/{act}"]
    assert gateway[0].attributes is not None
    assert gateway[0].attributes["http.response.status_code"] == 200

    command = next(s for s in traced if s.name == "process membership.cmd.admit")
    assert command.kind is SpanKind.SERVER
    chain = parent_chain(command, by_id)
    assert chain[0] == "send membership.cmd.admit"
    assert chain[-1] == "POST /c/{community}/acts/{act}"  # the gateway's request span is the root here
    assert (
        by_id[gateway[0].parent.span_id] if gateway[0].parent and gateway[0].parent.span_id in by_id else True
    )
    # membership asked identity for the member's credential: identity's span is in the same trace
    assert any(
        s.kind is SpanKind.SERVER and s.name.startswith("process identity.cmd.")
        for s in traced
        if "process membership.cmd.admit" in parent_chain(s, by_id)
    )
    append = next(
        s
        for s in traced
        if s.name == "append MEMBERSHIP" and "process membership.cmd.admit" in parent_chain(s, by_id)
    )
    assert append.kind is SpanKind.PRODUCER

    applied = [s for s in traced if s.name == "apply MEMBERSHIP"]
    assert applied, "the projection that applied the admission did not continue its trace"
    assert all(s.kind is SpanKind.CONSUMER for s in applied)
    assert any(parent_chain(s, by_id)[:1] == ["append MEMBERSHIP"] for s in applied)


async def test_the_trace_context_is_stored_with_the_commit_and_followed_after_a_rebuild(
    platform: Platform, spans: InMemorySpanExporter
) -> None:
    community = unique_service("c")
    trace_id = secrets.token_hex(16)
    platform.http.headers["traceparent"] = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    await form_community(platform.http, community)
    del platform.http.headers["traceparent"]
    app = platform.membership.app
    store = app.recorder.store  # type: ignore[attr-defined]
    stored = await store.read_commits(1, limit=1000, subject=f"membership.{community}.>")
    assert stored
    assert all(commit.trace["traceparent"].split("-")[1] == trace_id for commit in stored)

    spans.clear()
    rebuilt = CatchUp(app, [RollView()], name="rebuild-test")  # a read model rebuilt from sequence 0
    assert rebuilt.lag() > 0
    await asyncio.to_thread(rebuilt)
    assert rebuilt.lag() == 0
    # Only the rebuild's spans: the service's own follower may still be applying the last commits
    # (in the same trace) as the exporter is cleared.
    followed = [
        s
        for s in trace_of(spans, trace_id)
        if s.name == "apply MEMBERSHIP" and s.attributes and s.attributes.get("cos.consumer") == rebuilt.name
    ]
    assert len(followed) == len(stored)


async def test_a_shared_consumer_projection_continues_the_command_trace(
    platform: Platform, spans: InMemorySpanExporter, nc: NATS
) -> None:
    """A worker on a shared durable consumer (shared/projection.py) applies the admission in a
    CONSUMER span whose parent is the append of the command that stored it."""
    community = unique_service("c")
    ada, bea = await form_community(platform.http, community)
    applied: list[int] = []

    async def apply(deliveries: Sequence[Delivery]) -> None:
        applied.extend(d.sequence for d in deliveries)

    name = unique_service("proj")
    worker = ProjectionWorker(
        nc, "MEMBERSHIP", name, apply, filter_subject=f"membership.{community}.>", fetch_wait_s=0.1
    )
    await worker.start()
    try:

        async def caught_up() -> bool:
            return worker.stats.applied > 0 and await worker.pending() == 0

        assert await eventually_async(caught_up)
        before = len(applied)
        trace_id = secrets.token_hex(16)
        admitted = await platform.http.post(
            f"/c/{community}/acts/admit",
            json={"statement": ada.sign("membership.admit", {"member": bea.keys.did})},
            headers={**ada.auth, "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
        )
        assert admitted.status_code == 200, admitted.text
        assert await eventually(lambda: len(applied) > before)

        def consumer_spans() -> list[ReadableSpan]:
            return [
                s
                for s in trace_of(spans, trace_id)
                if s.name == "apply MEMBERSHIP" and s.attributes and s.attributes.get("cos.consumer") == name
            ]

        assert await eventually(consumer_spans)
        traced = trace_of(spans, trace_id)
        by_id = {s.context.span_id: s for s in traced if s.context is not None}
        (span,) = consumer_spans()
        assert span.kind is SpanKind.CONSUMER
        chain = parent_chain(span, by_id)
        assert chain[0] == "append MEMBERSHIP"
        assert "process membership.cmd.admit" in chain
        assert chain[-1] == "POST /c/{community}/acts/{act}"
    finally:
        await worker.stop()
        await nc.jetstream().delete_consumer("MEMBERSHIP", name)


def points(data: MetricsData | None, name: str) -> list[Any]:
    found: list[Any] = []
    for resource in data.resource_metrics if data is not None else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found.extend(metric.data.data_points)
    return found


def count(data: MetricsData | None, name: str, **attributes: Any) -> int:
    total = 0
    for point in points(data, name):
        if all(point.attributes.get(k) == v for k, v in attributes.items()):
            assert isinstance(point, HistogramDataPoint)
            total += point.count
    return total


async def test_request_command_append_and_lag_metrics_are_recorded_and_served(platform: Platform) -> None:
    reader = platform.telemetry.metrics_reader
    before = reader.get_metrics_data()
    community = unique_service("c")
    ada, _ = await form_community(platform.http, community)
    refused = await platform.http.post(
        f"/c/{community}/acts/admit",
        json={"statement": ada.sign("membership.admit", {"member": "did:key:z6MkNobody"})},
        headers=ada.auth,
    )
    assert refused.status_code >= 400
    lagging = CatchUp(platform.membership.app, [RollView()], name="metrics-test")
    after = reader.get_metrics_data()

    route = {"http.route": "/c/{community}/apply", "http.request.method": "POST"}
    assert count(after, "http.server.request.duration", **route) == (
        count(before, "http.server.request.duration", **route) + 1
    )
    create = {"cos.service": "membership", "cos.command": "create_community", "cos.outcome": "ok"}
    assert (
        count(after, "cos.command.duration", **create) == count(before, "cos.command.duration", **create) + 1
    )
    refusal = refused.json()["error"]["type"]
    rejected = {"cos.service": "membership", "cos.command": "admit", "cos.outcome": refusal}
    assert count(after, "cos.command.duration", **rejected) >= 1
    appends = {"cos.stream": "MEMBERSHIP", "cos.outcome": "ok"}
    assert count(after, "cos.eventstore.append.duration", **appends) > count(
        before, "cos.eventstore.append.duration", **appends
    )
    lag = [
        p
        for p in points(after, "cos.consumer.lag")
        if p.attributes.get("cos.consumer") == "membership.metrics-test"
    ]
    assert len(lag) == 1
    assert isinstance(lag[0], NumberDataPoint)
    assert lag[0].value == lagging.lag() > 0

    text = (await platform.http.get("/metrics")).text
    assert "# TYPE http_server_request_duration_seconds histogram" in text
    assert 'http_route="/c/{community}/apply"' in text
    assert community not in text, "a community's name leaked into the metrics"
    line = next(
        line
        for line in text.splitlines()
        if line.startswith("cos_command_duration_seconds_count{")
        and 'cos_command="create_community"' in line
        and 'cos_outcome="ok"' in line
    )
    assert int(line.rsplit(" ", 1)[1]) >= 1
    assert 'cos_consumer_lag{cos_consumer="membership.metrics-test",cos_stream="MEMBERSHIP"}' in text


def test_json_logs_carry_the_trace_and_span_of_the_current_span(spans: InMemorySpanExporter) -> None:
    formatter = JsonLogFormatter("membership")
    record = logging.LogRecord("cos.test", logging.WARNING, __file__, 1, "refused %s", ("admit",), None)
    with span_in_context("tests", "logging") as span:
        entry = json.loads(formatter.format(record))
    context = span.get_span_context()
    assert entry["message"] == "refused admit"
    assert entry["level"] == "warning"
    assert entry["service"] == "membership"
    assert entry["trace_id"] == format(context.trace_id, "032x")
    assert entry["span_id"] == format(context.span_id, "016x")
    assert "trace_id" not in json.loads(formatter.format(record))


async def test_a_projection_counts_what_it_defers_apart_from_what_it_applies(
    platform: Platform, nc: NATS
) -> None:
    reader = platform.telemetry.metrics_reader
    community = unique_service("c")
    await form_community(platform.http, community)
    name = unique_service("deferring")
    seen: set[int] = set()

    async def apply(deliveries: Sequence[Delivery]) -> dict[int, float]:
        first = {d.sequence for d in deliveries} - seen  # each commit waits once, then applies
        seen.update(first)
        return dict.fromkeys(first, 0.2)

    worker = ProjectionWorker(
        nc,
        "MEMBERSHIP",
        name,
        apply,
        filter_subject=community_filter(community, "membership"),
        fetch_wait_s=0.1,
    )
    await worker.start()
    try:
        assert await eventually_async(lambda: _all_applied(worker, seen), within=20)
    finally:
        await worker.stop()
        await nc.jetstream().delete_consumer("MEMBERSHIP", name)
    data = reader.get_metrics_data()
    ours = {"cos.consumer": name}
    assert total(data, "cos.projection.deferred", **ours) == len(seen) == worker.stats.deferred
    assert total(data, "cos.projection.commits", **ours) == len(seen) == worker.stats.applied


async def _all_applied(worker: ProjectionWorker, seen: set[int]) -> bool:
    return bool(seen) and worker.stats.applied == len(seen) and await worker.pending() == 0


def total(data: MetricsData | None, name: str, **attributes: Any) -> float:
    return sum(
        point.value
        for point in points(data, name)
        if isinstance(point, NumberDataPoint)
        and all(point.attributes.get(k) == v for k, v in attributes.items())
    )
