"""The official NATS chart, rendered by helm with this deployment's values (deploy/k8s/nats).

Opt-in: CI has neither the chart (its repository is not reachable from CI and the chart is not
copied into this one) nor helm. To run it, point `COS_NATS_CHART` at the chart, unpacked or as
its archive, at the version `deploy/k8s/nats/kustomization.yaml` pins, and have helm on PATH or
at `.venv/bin/helm` (`scripts/ensure-helm` puts it there):

    scripts/ensure-helm
    helm pull nats --repo https://nats-io.github.io/k8s/helm/charts/ --version 2.14.2
    COS_NATS_CHART=nats-2.14.2.tgz .venv/bin/pytest tests/deploy/test_nats_chart.py

It lints the chart with the values, renders it, validates every object strictly against the
Kubernetes schemas, checks the cluster the services expect (three JetStream nodes, each with its
own volume, behind the Service that NATS_URL names, at the pinned server version), and has
nats-server itself check the configuration file the chart generates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from shared.natsserver import find_nats_server

yaml = pytest.importorskip("yaml")
kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[2]
NATS = ROOT / "deploy" / "k8s" / "nats"
KUBERNETES_VERSION = "1.32.0"
Doc = dict[str, Any]


def _helm() -> str:
    found = os.environ.get("COS_HELM") or shutil.which("helm")
    local = ROOT / ".venv" / "bin" / "helm"
    if found is None and local.exists():
        found = str(local)
    if found is None:
        pytest.skip("no helm: run scripts/ensure-helm, or set COS_HELM")
    return found


def _chart() -> Path:
    chart = os.environ.get("COS_NATS_CHART")
    if not chart:
        pytest.skip("COS_NATS_CHART is not set: the official NATS chart is needed (see this module's doc)")
    return Path(chart)


def _pinned() -> dict[str, Any]:
    (entry,) = yaml.safe_load((NATS / "kustomization.yaml").read_text())["helmCharts"]
    return dict(entry)


def _run(*args: str) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def rendered() -> list[Doc]:
    helm, chart, pinned = _helm(), _chart(), _pinned()
    values = str(NATS / pinned["valuesFile"])
    shown = yaml.safe_load(_run(helm, "show", "chart", str(chart)))
    assert (shown["name"], shown["version"]) == ("nats", pinned["version"]), "not the pinned chart"
    _run(helm, "lint", str(chart), "--strict", "-f", values)
    out = _run(helm, "template", pinned["releaseName"], str(chart), "-n", "community-os", "-f", values)
    return [doc for doc in yaml.safe_load_all(out) if doc]


def _one(docs: list[Doc], kind: str, name: str) -> Doc:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def test_every_object_the_chart_renders_validates_against_the_kubernetes_schemas(rendered: list[Doc]) -> None:
    kinds = {d["kind"] for d in rendered}
    assert {"StatefulSet", "Service", "ConfigMap", "PodDisruptionBudget"} <= kinds
    for doc in rendered:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_three_jetstream_nodes_each_with_a_volume_at_the_pinned_server(rendered: list[Doc]) -> None:
    nodes = _one(rendered, "StatefulSet", "nats")["spec"]
    assert nodes["replicas"] == 3
    (claim,) = nodes["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    server = next(c for c in nodes["template"]["spec"]["containers"] if c["name"] == "nats")
    assert server["image"].split(":")[-1].startswith(_pinned()["version"] + "-"), server["image"]
    mounts = {m["name"]: m["mountPath"] for m in server["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == "/data"


def test_the_service_is_the_one_nats_url_names(rendered: list[Doc]) -> None:
    base = yaml.safe_load((ROOT / "deploy" / "k8s" / "base" / "kustomization.yaml").read_text())
    generators = base.get("configMapGenerator", [])
    literals = dict(literal.split("=", 1) for gen in generators for literal in gen.get("literals", []))
    host, port = literals["NATS_URL"].removeprefix("nats://").split(":")
    service = _one(rendered, "Service", host)["spec"]
    assert int(port) in {p["port"] for p in service["ports"]}
    assert service["selector"]["app.kubernetes.io/component"] == "nats"


def test_nats_server_accepts_the_configuration_the_chart_makes(rendered: list[Doc], tmp_path: Path) -> None:
    config = _one(rendered, "ConfigMap", "nats-config")["data"]["nats.conf"]
    for route in ("nats-0.nats-headless", "nats-1.nats-headless", "nats-2.nats-headless"):
        assert route in config
    assert '"store_dir": "/data"' in config
    assert '"max_memory_store": 0' in config
    path = tmp_path / "nats.conf"
    path.write_text(config)
    env = {**os.environ, "SERVER_NAME": "nats-0"}  # the StatefulSet sets it from the pod's name
    result = subprocess.run(
        [str(find_nats_server()), "-c", str(path), "-t"], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "is valid" in result.stdout + result.stderr
