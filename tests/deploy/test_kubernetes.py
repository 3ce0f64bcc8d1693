"""The Kubernetes manifests: rendered with kustomize, checked against the Kubernetes API schemas.

`kubectl kustomize` renders the base and the production overlay; every object must validate
(strictly: no unknown fields) against the Kubernetes OpenAPI schemas shipped by
kubernetes-validate; then the properties the deployment relies on are checked: one Deployment per
`cos serve` service, probes on the endpoints the processes serve, resources, autoscalers and
disruption budgets that point at real Deployments, R3 streams on a 3-node JetStream cluster.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cos.commands.serve import SERVICES

# Test-only tools (dev dependencies): the Kubernetes OpenAPI schemas ship in kubernetes-validate.
yaml = pytest.importorskip("yaml")
kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.32.0"
SINGLETONS = {"governance", "transparency"}  # timers and checkpoints: one process at a time
Doc = dict[str, Any]


def render_plainly(directory: Path) -> list[Doc]:
    """Without kustomize: a kustomization's own resources as written, plus its generated ConfigMaps
    (unhashed names, which the resources name too). Enough to validate every object we wrote."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    docs: list[Doc] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        if path.is_dir():
            pytest.skip(f"{directory.name} builds on {resource}: rendering it needs kubectl kustomize")
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for generator in kustomization.get("configMapGenerator", []):
        data = dict(literal.split("=", 1) for literal in generator.get("literals", []))
        docs.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}
        )
    return docs


def render(directory: Path) -> list[Doc]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return render_plainly(directory)
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=["base", "overlays/production"])
def rendered(request: pytest.FixtureRequest) -> list[Doc]:
    return render(K8S / request.param)


def by_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_every_object_validates_against_the_kubernetes_schemas(rendered: list[Doc]) -> None:
    assert len(rendered) > 20
    for doc in rendered:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_rejects_a_misspelt_field(rendered: list[Doc]) -> None:
    deployment = next(d for d in rendered if d["kind"] == "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_one_deployment_per_service_with_probes_and_resources(rendered: list[Doc]) -> None:
    deployments = by_kind(rendered, "Deployment")
    running = set()
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["args"][0] == "serve"
        service = container["args"][1]
        running.add(service)
        assert name == f"cos-{service}"
        port = 8000 if service == "gateway" else 8081
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert port in ports.values()
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            assert container[probe]["httpGet"]["path"] == path, (name, probe)
            assert ports[container[probe]["httpGet"]["port"]] == port
        assert container["startupProbe"]["httpGet"]["path"] == "/readyz"
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert "memory" in container["resources"]["limits"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["envFrom"][0]["configMapRef"]["name"].startswith("cos-config")
        if service != "gateway":  # streams are provisioned before a service takes commands
            assert [c["args"] for c in pod["initContainers"]] == [["serve", "provision"]]
        rolling = deployment["spec"]["strategy"]["rollingUpdate"]
        if service in SINGLETONS:  # never two at once, even during an upgrade
            assert (rolling["maxSurge"], deployment["spec"]["replicas"]) == (0, 1)
        else:  # a new pod is ready before an old one goes
            assert rolling["maxUnavailable"] == 0
    assert running == set(SERVICES) - {"provision"}


def test_autoscalers_and_disruption_budgets_point_at_deployments(rendered: list[Doc]) -> None:
    deployments = by_kind(rendered, "Deployment")
    autoscalers = by_kind(rendered, "HorizontalPodAutoscaler")
    assert {"cos-gateway", "cos-identity", "cos-membership", "cos-warehouse"} <= autoscalers.keys()
    for name, hpa in autoscalers.items():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert hpa["spec"]["minReplicas"] == deployments[name]["spec"]["replicas"] >= 2
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    for name, pdb in by_kind(rendered, "PodDisruptionBudget").items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    singletons = {n for n, d in deployments.items() if d["spec"]["replicas"] == 1}
    assert not singletons & autoscalers.keys()
    assert {"cos-transparency", "cos-governance"} <= singletons


def test_the_gateway_is_the_only_entry_point(rendered: list[Doc]) -> None:
    services = by_kind(rendered, "Service")
    assert list(services) == ["cos-gateway"]
    deployment = by_kind(rendered, "Deployment")["cos-gateway"]
    selector = services["cos-gateway"]["spec"]["selector"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert services["cos-gateway"]["spec"]["ports"][0]["targetPort"] == "http"


def test_configuration_names_an_r3_cluster_and_keys_come_from_secrets(rendered: list[Doc]) -> None:
    (config,) = [d for d in rendered if d["kind"] == "ConfigMap"]
    data = config["data"]
    assert data["COS_REPLICAS"] == "3"
    assert data["NATS_URL"] == "nats://nats:4222"
    deployments = by_kind(rendered, "Deployment")
    for service in ("identity", "transparency"):
        pod = deployments[f"cos-{service}"]["spec"]["template"]["spec"]
        secrets = {v["secret"]["secretName"]: v["secret"] for v in pod["volumes"] if "secret" in v}
        assert secrets.keys() == {f"cos-{service}-keys"}
        mode = secrets[f"cos-{service}-keys"]["defaultMode"]
        assert mode & 0o040  # the files belong to root; the pod's group (fsGroup) must read them
        assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
        mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
        assert mounts[f"/data/{service}/keys"]["readOnly"] is True


def test_the_production_overlay_sets_the_public_address_and_namespace() -> None:
    docs = render(K8S / "overlays" / "production")
    namespaced = [d for d in docs if d["kind"] != "Namespace"]
    assert {d["metadata"].get("namespace") for d in namespaced} == {"community-os"}
    (config,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert config["data"]["COS_PUBLIC_SCHEME"] == "https"
    images = {
        c["image"]
        for d in by_kind(docs, "Deployment").values()
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.example.org/community-os:0.1.0"}
    assert by_kind(docs, "Deployment")["cos-gateway"]["spec"]["replicas"] == 3


def test_nats_comes_from_the_official_chart_as_a_three_node_jetstream_cluster() -> None:
    kustomization = yaml.safe_load((K8S / "nats" / "kustomization.yaml").read_text())
    (chart,) = kustomization["helmCharts"]
    assert (chart["name"], chart["repo"]) == ("nats", "https://nats-io.github.io/k8s/helm/charts/")
    assert chart["version"].count(".") == 2
    # From chart 2.x on the chart's version is the nats-server it runs. The event store reads with
    # batched Direct Get (nats-server 2.11) and stores multi-aggregate commits as atomic batches
    # (2.12): chart 1.1.5 ran 2.10.5 and would have failed on both.
    assert tuple(int(p) for p in chart["version"].split(".")[:2]) >= (2, 12)
    values = yaml.safe_load((K8S / "nats" / chart["valuesFile"]).read_text())
    assert values["fullnameOverride"] == "nats"  # the Service NATS_URL names
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    jetstream = values["config"]["jetstream"]
    assert jetstream["enabled"] is True
    assert jetstream["fileStore"]["pvc"]["enabled"] is True
