"""Request telemetry of the gateway: FastAPI's own request spans and metrics, and Prometheus text.

FastAPI records a SERVER span and `http.server.request.duration` per request once a tracer and meter
provider are installed (`shared.telemetry.setup_telemetry`): the span continues a `traceparent` sent
by the caller (the web app, a load balancer) or starts the trace, and everything the request sends
over NATS is its child. Both name the route template (`/c/{community}/acts/{act}`), never the
community itself, so metrics stay per route. Probes and scrapes are left out: they would drown the
traces and say nothing about members' requests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry.sdk.metrics.export import Gauge, Histogram, Metric, MetricsData, Sum

__all__ = ["UNTRACED_PATHS", "fastapi_telemetry", "prometheus_text"]

UNTRACED_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


def fastapi_telemetry() -> TelemetryConfig:
    """FastAPI's native telemetry on the global providers, without probe and scrape requests."""
    return {"exclude": _untraced}


# -- Prometheus text exposition (format 0.0.4) ----------------------------------------------------

_NAME = re.compile(r"[^a-zA-Z0-9_:]")
_LABEL = re.compile(r"[^a-zA-Z0-9_]")
_UNITS = {"s": "seconds", "ms": "milliseconds", "By": "bytes"}


def _metric_name(metric: Metric) -> str:
    name = _NAME.sub("_", metric.name)
    suffix = _UNITS.get(metric.unit or "")
    if suffix and not name.endswith(f"_{suffix}"):
        name = f"{name}_{suffix}"
    return name


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(attributes: Any, extra: Sequence[tuple[str, str]] = ()) -> str:
    pairs = [(_LABEL.sub("_", str(k)), _escape(v)) for k, v in dict(attributes or {}).items()]
    pairs.extend(extra)
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in pairs) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _render(name: str, metric: Metric) -> Iterable[str]:
    data = metric.data
    if isinstance(data, Histogram):
        for point in data.data_points:
            cumulative = 0
            for bound, count in zip(point.explicit_bounds, point.bucket_counts, strict=False):
                cumulative += count
                yield f"{name}_bucket{_labels(point.attributes, [('le', _number(bound))])} {cumulative}"
            yield f"{name}_bucket{_labels(point.attributes, [('le', '+Inf')])} {point.count}"
            yield f"{name}_sum{_labels(point.attributes)} {_number(point.sum)}"
            yield f"{name}_count{_labels(point.attributes)} {point.count}"
    elif isinstance(data, Sum):
        suffix = "_total" if data.is_monotonic and not name.endswith("_total") else ""
        for number in data.data_points:
            yield f"{name}{suffix}{_labels(number.attributes)} {_number(number.value)}"
    elif isinstance(data, Gauge):
        for number in data.data_points:
            yield f"{name}{_labels(number.attributes)} {_number(number.value)}"


def _kind(metric: Metric) -> str:
    data = metric.data
    if isinstance(data, Histogram):
        return "histogram"
    if isinstance(data, Sum) and data.is_monotonic:
        return "counter"
    return "gauge"


def prometheus_text(data: MetricsData | None) -> str:
    """Metrics in the Prometheus text exposition format (cumulative, as the pull reader keeps them)."""
    by_name: dict[str, list[Metric]] = {}
    for resource_metrics in data.resource_metrics if data is not None else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                by_name.setdefault(_metric_name(metric), []).append(metric)
    lines: list[str] = []
    for name in sorted(by_name):
        metrics = by_name[name]
        first = metrics[0]
        if first.description:
            lines.append(f"# HELP {name} {_escape(first.description)}")
        lines.append(f"# TYPE {name} {_kind(first)}")
        for metric in metrics:
            lines.extend(_render(name, metric))
    return "\n".join(lines) + "\n"
