"""Export: OTLP/HTTP configured from the environment (to a collector stand-in on loopback), and the
Prometheus text the gateway serves on /metrics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from services.gateway.telemetry import prometheus_text
from shared.telemetry import build_telemetry, otlp_endpoint


class Collector(ThreadingHTTPServer):
    """Accepts OTLP/HTTP protobuf posts and keeps them by path."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.received: dict[str, list[bytes]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Receive(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.setdefault(self.path, []).append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_spans_and_metrics_go_to_the_configured_otlp_endpoint(collector: Collector) -> None:
    telemetry = build_telemetry("cos-export-test", env={"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url})
    assert telemetry.traces_endpoint == f"{collector.url}/v1/traces"
    with telemetry.tracer_provider.get_tracer("tests").start_as_current_span("exported work"):
        telemetry.meter_provider.get_meter("tests").create_counter("cos.test.exported").add(3)
    telemetry.flush()
    telemetry.shutdown()

    traces = ExportTraceServiceRequest()
    traces.ParseFromString(b"".join(collector.received["/v1/traces"]))
    resource_spans = traces.resource_spans[0]
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"]
    assert service == "cos-export-test"
    assert [s.name for s in resource_spans.scope_spans[0].spans] == ["exported work"]

    exported = ExportMetricsServiceRequest()
    exported.ParseFromString(collector.received["/v1/metrics"][-1])
    sums = [
        metric.sum.data_points[0].as_int
        for rm in exported.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
        if metric.name == "cos.test.exported"
    ]
    assert sums == [3]


def test_nothing_is_exported_unless_an_endpoint_is_configured() -> None:
    assert otlp_endpoint({}, "traces") is None
    assert (
        otlp_endpoint({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/t"}, "traces")
        == "http://c:4318/t"
    )
    assert (
        otlp_endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}, "metrics")
        == "http://c:4318/v1/metrics"
    )
    assert (
        otlp_endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_TRACES_EXPORTER": "none"}, "traces")
        is None
    )
    assert (
        otlp_endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_SDK_DISABLED": "true"}, "metrics")
        is None
    )
    telemetry = build_telemetry(env={})
    assert not telemetry.exporting
    assert telemetry.service == "community-os"
    telemetry.shutdown()


def test_prometheus_text_is_cumulative_escaped_and_typed() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    meter = provider.get_meter("tests")
    latency = meter.create_histogram(
        "cos.test.latency", unit="s", explicit_bucket_boundaries_advisory=(0.1, 1.0)
    )
    for seconds in (0.05, 0.5, 0.7, 3.0):
        latency.record(seconds, {"cos.command": "admit"})
    meter.create_counter("cos.test.refusals", description="Refusals").add(
        2, {"cos.reason": 'say "no"\nagain'}
    )
    meter.create_up_down_counter("cos.test.open").add(-1)

    text = prometheus_text(reader.get_metrics_data())
    lines = text.splitlines()
    assert "# TYPE cos_test_latency_seconds histogram" in lines
    assert [
        line.rsplit(" ", 1)[1] for line in lines if line.startswith("cos_test_latency_seconds_bucket")
    ] == [
        "1",
        "3",
        "4",
    ]
    assert 'cos_test_latency_seconds_bucket{cos_command="admit",le="+Inf"} 4' in lines
    assert 'cos_test_latency_seconds_count{cos_command="admit"} 4' in lines
    assert float(next(line for line in lines if "latency_seconds_sum" in line).rsplit(" ", 1)[1]) == 4.25
    assert "# HELP cos_test_refusals Refusals" in lines
    assert "# TYPE cos_test_refusals counter" in lines
    assert 'cos_test_refusals_total{cos_reason="say \\"no\\"\\nagain"} 2' in lines
    assert "# TYPE cos_test_open gauge" in lines
    assert "cos_test_open -1" in lines
    provider.shutdown()
