"""Traces, metrics and structured logs: OpenTelemetry from the environment, W3C context in NATS headers.

One trace follows a request from the gateway through every service it touches: the gateway's request
span is the parent of the command sent over NATS (`traceparent` in the request headers), the service's
command span is the parent of the append, and the append writes its context into the headers of the
commit's JetStream message, where it is stored with the commit. A projection that applies the commit
later, even after a restart, starts its span as a child of that stored context.

Nothing is exported unless configured: `OTEL_EXPORTER_OTLP_ENDPOINT` (or the per-signal
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `..._METRICS_ENDPOINT`) adds OTLP/HTTP exporters;
`OTEL_SDK_DISABLED=true` turns the SDK off (the API then does nothing, propagation still passes
contexts through). Metrics are always readable in-process through `Telemetry.metrics_reader`,
which the gateway renders as Prometheus text on `/metrics`.

Instruments (attributes never name a community, so no tenant leaks into metrics and cardinality
stays fixed as communities grow):

- `http.server.request.duration` (s, recorded by FastAPI in the gateway): method, route template,
  status code — the request rate is its count;
- `cos.command.duration` (s): service, command, outcome (`ok` or the refusal type);
- `cos.eventstore.append.duration` (s): stream, outcome (`ok`, `conflict`, `error`);
- `cos.consumer.lag` (messages): stream last sequence minus the position a consumer has applied;
- `cos.projection.commits` (count): commits applied by projections, per consumer.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

__all__ = [
    "Instruments",
    "JsonLogFormatter",
    "Telemetry",
    "configure_logging",
    "current_trace_id",
    "extract_context",
    "inject_context",
    "instruments",
    "mark_error",
    "propagated_context",
    "register_consumer_lag",
    "setup_telemetry",
    "span_in_context",
    "telemetry",
    "trace_headers",
    "tracer",
    "tracing_installed",
]

log = logging.getLogger(__name__)

SCOPE = "community_os"
TRACE_HEADERS = ("traceparent", "tracestate")
_DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


# -- context propagation -------------------------------------------------------------------------


def inject_context(headers: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """`headers` (copied) plus the current trace context (`traceparent`, `tracestate`), if any."""
    carrier: dict[str, str] = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def tracing_installed() -> bool:
    """True once `setup_telemetry` installed the SDK: hot paths skip spans and metrics before that."""
    return _installed is not None


def propagated_context() -> dict[str, str] | None:
    """The current trace context as headers, or None (cheaply) when there is none to propagate."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    return inject_context()


def extract_context(headers: Mapping[str, str] | None) -> Context | None:
    """The trace context carried by `headers`, or None when they carry none."""
    if not headers or "traceparent" not in headers:
        return None
    return propagate.extract(dict(headers))


def trace_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Only the W3C trace context entries of a message's headers (what is worth keeping)."""
    if not headers:
        return {}
    return {k: v for k, v in headers.items() if k in TRACE_HEADERS}


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits, or None outside a recorded trace."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


@functools.cache
def tracer(component: str) -> trace.Tracer:
    """The tracer of one part of the platform (`gateway`, `commands`, `eventstore`, ...).

    Cached: the SDK builds a new tracer on every `get_tracer` (measured as the largest cost of a
    span). A tracer obtained before `setup_telemetry` is a proxy that follows the provider installed later.
    """
    return trace.get_tracer(f"{SCOPE}.{component}")


@contextmanager
def span_in_context(
    component: str,
    name: str,
    *,
    parent: Context | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int | bool] | None = None,
    links: Sequence[Link] = (),
) -> Iterator[Span]:
    """A span made current for the block; an exception escaping the block marks it as an error."""
    with tracer(component).start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=dict(attributes or {}),
        links=list(links),
        record_exception=True,
        set_status_on_exception=True,
    ) as span:
        yield span


def mark_error(span: Span, description: str) -> None:
    span.set_status(Status(StatusCode.ERROR, description))


# -- metrics -------------------------------------------------------------------------------------


@dataclass
class _LagSource:
    consumer: str
    stream: str
    measure: Callable[[], int | None]


class _ConsumerLag:
    """Consumers that report how far behind their stream they are, observed at collection time."""

    def __init__(self) -> None:
        self._sources: dict[int, _LagSource] = {}
        self._lock = threading.Lock()
        self._ids = iter(range(1, 1 << 62))

    def add(self, source: _LagSource) -> Callable[[], None]:
        with self._lock:
            key = next(self._ids)
            self._sources[key] = source

        def remove() -> None:
            with self._lock:
                self._sources.pop(key, None)

        return remove

    def observe(self, _: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            sources = list(self._sources.values())
        for source in sources:
            try:
                lag = source.measure()
            except Exception:  # a consumer that cannot answer is left out of this scrape
                log.debug("consumer %s could not report its lag", source.consumer, exc_info=True)
                continue
            if lag is not None:
                yield Observation(max(lag, 0), {"cos.consumer": source.consumer, "cos.stream": source.stream})


_lag = _ConsumerLag()


def register_consumer_lag(
    consumer: str, stream: str, measure: Callable[[], int | None], *, owner: object | None = None
) -> Callable[[], None]:
    """Report `measure()` (stream last sequence minus applied position) as `cos.consumer.lag`.

    With `owner`, the registration ends by itself when the owner is garbage-collected. Returns a
    function that ends it explicitly.
    """
    remove = _lag.add(_LagSource(consumer, stream, measure))
    if owner is not None:
        weakref.finalize(owner, remove)
    return remove


@dataclass
class Instruments:
    """The platform's instruments, bound to whatever meter provider is (or later gets) installed."""

    meter: metrics.Meter = field(default_factory=lambda: metrics.get_meter(SCOPE))

    def __post_init__(self) -> None:
        self.command_duration = self.meter.create_histogram(
            "cos.command.duration",
            unit="s",
            description="Time a service took to answer a command, by outcome",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.append_duration = self.meter.create_histogram(
            "cos.eventstore.append.duration",
            unit="s",
            description="Time from sealing a commit to its JetStream acknowledgement",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self.projection_commits = self.meter.create_counter(
            "cos.projection.commits",
            unit="{commit}",
            description="Commits applied by projections",
        )
        self.projection_deferred = self.meter.create_counter(
            "cos.projection.deferred",
            unit="{commit}",
            description="Commits a projection handed back to wait (e.g. a mail waiting for its reader)",
        )
        self.consumer_lag = self.meter.create_observable_gauge(
            "cos.consumer.lag",
            callbacks=[_lag.observe],
            unit="{message}",
            description="Stream last sequence minus the position the consumer has applied",
        )


_instruments: Instruments | None = None
_instruments_lock = threading.Lock()


def instruments() -> Instruments:
    """The shared instruments (created once; they follow the meter provider installed later)."""
    global _instruments
    if _instruments is None:
        with _instruments_lock:
            if _instruments is None:
                _instruments = Instruments()
    return _instruments


# -- logs ----------------------------------------------------------------------------------------


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line with the trace and span ids of the span current at the log call."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            entry["trace_id"] = format(ctx.trace_id, "032x")
            entry["span_id"] = format(ctx.span_id, "016x")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime(datefmt or "%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))


def configure_logging(service: str, *, fmt: str | None = None, level: str | None = None) -> logging.Handler:
    """Log to stderr as JSON lines (`COS_LOG_FORMAT=json`, the default) or text (`text`)."""
    fmt = (fmt or os.environ.get("COS_LOG_FORMAT") or "json").lower()
    level = (level or os.environ.get("COS_LOG_LEVEL") or "INFO").upper()
    root = logging.getLogger()
    for existing in root.handlers:
        if getattr(existing, "_cos_handler", False):
            root.removeHandler(existing)
    handler = logging.StreamHandler()
    handler._cos_handler = True  # type: ignore[attr-defined]
    if fmt == "json":
        handler.setFormatter(JsonLogFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    return handler


# -- set-up --------------------------------------------------------------------------------------


@dataclass
class Telemetry:
    """The installed providers and the in-process metrics reader."""

    service: str
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    metrics_reader: InMemoryMetricReader
    traces_endpoint: str | None = None
    metrics_endpoint: str | None = None

    @property
    def exporting(self) -> bool:
        return bool(self.traces_endpoint or self.metrics_endpoint)

    def add_span_processor(self, processor: SpanProcessor) -> None:
        self.tracer_provider.add_span_processor(processor)

    def flush(self, timeout_ms: int = 10_000) -> None:
        """Export whatever is buffered now (at shutdown, or before a test looks)."""
        self.tracer_provider.force_flush(timeout_ms)
        self.meter_provider.force_flush(timeout_ms)

    def shutdown(self) -> None:
        """Flush and stop exporters (at process exit)."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


_installed: Telemetry | None = None
_setup_lock = threading.Lock()


def telemetry() -> Telemetry | None:
    """What `setup_telemetry` installed in this process, if it ran."""
    return _installed


def otlp_endpoint(env: Mapping[str, str], signal: str) -> str | None:
    """The OTLP/HTTP URL of `signal` (`traces`, `metrics`) as the OpenTelemetry spec reads the
    environment: the per-signal variable as is, else the base endpoint + `/v1/<signal>`."""
    upper = signal.upper()
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if env.get(f"OTEL_{upper}_EXPORTER", "otlp").strip().lower() == "none":
        return None
    if specific := env.get(f"OTEL_EXPORTER_OTLP_{upper}_ENDPOINT", "").strip():
        return specific
    if base := env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        return f"{base.rstrip('/')}/v1/{signal.lower()}"
    return None


def build_telemetry(
    service: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    metric_readers: Sequence[MetricReader] = (),
) -> Telemetry:
    """Providers configured from `env` (default: the process environment), not yet installed."""
    env = os.environ if env is None else env
    name = service or env.get("OTEL_SERVICE_NAME") or "community-os"
    resource = Resource.create({"service.name": name, "service.namespace": "community-os"})
    tracer_provider = TracerProvider(resource=resource)
    traces_endpoint = otlp_endpoint(env, "traces")
    if traces_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_endpoint)))
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    pull = InMemoryMetricReader()
    readers: list[MetricReader] = [pull, *metric_readers]
    metrics_endpoint = otlp_endpoint(env, "metrics")
    if metrics_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=metrics_endpoint)))
    meter_provider = MeterProvider(metric_readers=readers, resource=resource)
    return Telemetry(name, tracer_provider, meter_provider, pull, traces_endpoint, metrics_endpoint)


def setup_telemetry(
    service: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    metric_readers: Sequence[MetricReader] = (),
    configure_logs: bool = False,
) -> Telemetry:
    """Install the tracer and meter providers once per process (later calls add `span_processors`).

    `service` defaults to `OTEL_SERVICE_NAME`, then `community-os`. `metric_readers` only take effect
    on the first call (a meter provider's readers are fixed when it is made). `configure_logs`
    sends the root logger's records to stderr as JSON lines (`configure_logging`).
    """
    global _installed
    env = os.environ if env is None else env
    with _setup_lock:
        if _installed is None:
            built = build_telemetry(
                service, env=env, span_processors=span_processors, metric_readers=metric_readers
            )
            if env.get("OTEL_SDK_DISABLED", "").strip().lower() != "true":
                trace.set_tracer_provider(built.tracer_provider)
                metrics.set_meter_provider(built.meter_provider)
            instruments()  # the lag gauge exists from now on, so every collection observes it
            _installed = built
            log.info(
                "telemetry for %s: traces %s, metrics %s",
                built.service,
                built.traces_endpoint or "in-process only",
                built.metrics_endpoint or "in-process only",
            )
        else:
            for processor in span_processors:
                _installed.add_span_processor(processor)
        if configure_logs:
            configure_logging(_installed.service)
        return _installed
