"""`cos serve`: one OS process per service on a loopback nats-server forms a working platform."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from cos.cli import main
from cos.commands.serve import SERVICES, HealthEndpoint, ServeError, ServeOptions, ServeProcess, serve
from cos.platform import STREAMS
from shared.jetstream import JetStreamAPIError
from shared.jetstream.streams import stream_info
from shared.natsclient import connect
from shared.natsserver import NatsCluster, NatsServer, free_port
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.trust.member_keys import MemberKeys

NO_SUITABLE_PEERS = 10005  # JetStream's "no suitable peers for placement"


class Person:
    """A member acting through whichever gateway replica it is handed."""

    def __init__(self, community: str) -> None:
        self.keys = MemberKeys(SigningKey.generate())
        self.community = community
        self.auth: dict[str, str] = {}

    @property
    def did(self) -> str:
        return self.keys.did

    def sign(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        return sign_statement(
            self.keys, action=action, community=self.community, body=body,
            nonce=secrets.token_hex(16), now=datetime.now(tz=UTC),
        )  # fmt: skip

    async def sign_in(self, http: httpx.AsyncClient) -> Person:
        base = f"/c/{self.community}/auth"
        challenge = await http.post(f"{base}/challenge", json={"member": self.did})
        assert challenge.status_code == 200, challenge.text
        answer = self.sign("identity.sign_in", {"challenge": challenge.json()["challenge"]})
        tokens = await http.post(f"{base}/sign-in", json={"statement": answer})
        assert tokens.status_code == 200, tokens.text
        self.auth = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        return self


@pytest.fixture
def platform(own_nats_server: NatsServer, tmp_path: Path) -> Iterator[dict[str, ServeProcess]]:
    """provision, then identity, two membership replicas and two gateway replicas, each its own process."""
    data = tmp_path / "data"
    provisioned = subprocess.run(
        [sys.executable, "-m", "cos.cli", "serve", "provision", "--nats-url", own_nats_server.url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert provisioned.returncode == 0, provisioned.stdout + provisioned.stderr
    assert "MEMBERSHIP" in provisioned.stdout
    ports: set[int] = set()
    while len(ports) < 5:  # distinct: a port freed a moment ago can be handed out twice
        ports.add(free_port())
    identity, membership_a, membership_b, gateway_a, gateway_b = sorted(ports)
    env = {"COS_PUBLIC_PORT": str(gateway_a)}
    url = own_nats_server.url
    processes = {
        "identity": ServeProcess("identity", url, data, port=identity, env=env),
        "membership": ServeProcess("membership", url, data, port=membership_a, env=env),
        "membership-b": ServeProcess("membership", url, data / "b", port=membership_b, env=env),
        "gateway-a": ServeProcess("gateway", url, data, port=gateway_a, env=env),
        "gateway-b": ServeProcess("gateway", url, data, port=gateway_b, env=env),
    }
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.ready(within=120)
        yield processes
    finally:
        codes = {name: process.stop() for name, process in processes.items()}
    for name, code in codes.items():
        assert code == 0, f"{name} exited with {code}:\n{processes[name].output}"
    assert "identity stopped" in processes["identity"].output
    assert "membership stopped" in processes["membership"].output
    assert "membership stopped" in processes["membership-b"].output


@pytest.mark.slow
async def test_separate_processes_form_a_platform(platform: dict[str, ServeProcess]) -> None:
    a, b = platform["gateway-a"].url, platform["gateway-b"].url
    # Five service processes share the machine: httpx's 5 s default is short for a command that
    # crosses two of them (a gateway gives a service 10 s before it answers 503).
    async with (
        httpx.AsyncClient(base_url=a, timeout=30) as gw_a,
        httpx.AsyncClient(base_url=b, timeout=30) as gw_b,
    ):
        for gw in (gw_a, gw_b):
            assert (await gw.get("/healthz")).json() == {"status": "ok"}
            ready = (await gw.get("/readyz")).json()
            assert ready["status"] == "ready"
            assert {"IDENTITY", "MEMBERSHIP", "AUDIT"} <= {s["name"] for s in ready["streams"]}
        for name in ("identity", "membership", "membership-b"):
            health = platform[name].url
            service = name.split("-")[0]
            assert (await gw_a.get(f"{health}/readyz")).json() == {"status": "ready", "service": service}

        community = f"serve-{secrets.token_hex(4)}"
        ada = await Person(community).sign_in(gw_a)  # token from gateway A ...
        created = await gw_b.post(  # ... accepted by replica B: the gateway keeps no session state
            f"/c/{community}",
            json={
                "name": "River Co-op",
                "statement": ada.sign("membership.create_community", {"name": "Ada"}),
            },
            headers=ada.auth,
        )
        assert created.status_code == 201, created.text

        bea = await Person(community).sign_in(gw_b)
        applied = await gw_a.post(
            f"/c/{community}/apply", json={"statement": bea.sign("membership.apply", {"name": "Bea"})}
        )
        assert applied.status_code == 200, applied.text
        admit = {"statement": ada.sign("membership.admit", {"member": bea.did})}
        admitted = await gw_b.post(f"/c/{community}/acts/admit", json=admit, headers=ada.auth)
        assert admitted.status_code == 200, admitted.text
        assert admitted.json()["standing"] == "active"

        for gw in (gw_a, gw_b, gw_a, gw_b, gw_a, gw_b):  # whichever membership replica answers ...
            roll = await gw.get(f"/c/{community}/roll", headers=bea.auth)
            assert roll.status_code == 200, roll.text  # ... has caught up with the admission
            assert roll.json()["members"] == sorted([ada.did, bea.did])
        did_log = await gw_b.get(f"/c/{community}/did.jsonl")  # identity's trust agent, via membership
        assert did_log.status_code == 200, did_log.text

        replayed = await gw_a.post(f"/c/{community}/acts/admit", json=admit, headers=ada.auth)
        assert (replayed.status_code, replayed.json()["error"]["type"]) == (401, "statement_replayed")


async def test_a_service_health_endpoint_answers_probes(own_nats_server: NatsServer) -> None:
    nc = await connect(own_nats_server.url)
    health = HealthEndpoint("membership", nc)
    port = free_port()
    await health.start("127.0.0.1", port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).json() == {"status": "ok", "service": "membership"}
            starting = await http.get("/readyz")
            assert (starting.status_code, starting.json()["error"]["type"]) == (503, "starting")
            health.ready = True
            assert (await http.get("/readyz")).status_code == 200
            metrics = await http.get("/metrics")
            assert metrics.status_code == 200
            assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
            assert (await http.get("/nope")).status_code == 404
            assert (await http.post("/readyz")).status_code == 405
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"garbage\r\n\r\n")
            assert (await reader.read()).startswith(b"HTTP/1.1 400")
            writer.close()
            await nc.close()
            lost = await http.get("/readyz")
            assert (lost.status_code, lost.json()["error"]["type"]) == (503, "nats_unavailable")
    finally:
        await health.stop()
        await nc.close()


def test_cos_serve_refuses_to_start_without_a_bus(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("NATS_URL", raising=False)
    assert main(["serve", "gateway"]) == 2
    assert "NATS_URL" in capsys.readouterr().err


async def test_a_service_gives_up_on_an_unreachable_bus(tmp_path: Path) -> None:
    options = ServeOptions("membership", f"nats://127.0.0.1:{free_port()}", tmp_path, connect_timeout=0.5)
    with pytest.raises(ServeError, match=r"NATS not available within 0\.5s"):
        await serve(options, asyncio.Event())


async def _serving(options: ServeOptions, stop: asyncio.Event) -> asyncio.Task[int]:
    """`cos serve` in this process (the same code path as the CLI, minus signals), once ready."""
    task = asyncio.get_running_loop().create_task(serve(options, stop))
    async with httpx.AsyncClient() as http:
        for _ in range(1200):
            if task.done():
                task.result()  # raises what made it stop
                raise AssertionError(f"{options.service} stopped before it was ready")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"http://127.0.0.1:{options.health_port}/readyz")).status_code == 200:
                    return task
            await asyncio.sleep(0.1)
    raise AssertionError(f"{options.service} not ready")


async def test_every_module_service_serves_and_stops_in_order(
    own_nats_server: NatsServer, tmp_path: Path
) -> None:
    """What docker-compose.yml and the Kubernetes Deployments start: each module's `cos serve`."""
    url = own_nats_server.url
    assert await serve(ServeOptions("provision", url, tmp_path)) == 0
    modules = [s for s in SERVICES if s not in ("provision", "identity", "membership", "gateway")]
    stop = asyncio.Event()
    tasks = {}
    try:
        for service in modules:
            options = ServeOptions(service, url, tmp_path, health_port=free_port())
            tasks[service] = await _serving(options, stop)
    finally:
        stop.set()
        results = await asyncio.gather(*tasks.values(), return_exceptions=True)
    assert dict(zip(tasks, results, strict=True)) == dict.fromkeys(modules, 0)


@pytest.mark.cluster
async def test_provisioning_a_cluster_creates_r3_streams_that_a_service_uses(
    nats_cluster: NatsCluster, tmp_path: Path
) -> None:
    """The Kubernetes layout in small: COS_REPLICAS=3 on a 3-node cluster, services given every node."""
    deadline = time.monotonic() + 60
    while True:
        try:
            assert await serve(ServeOptions("provision", nats_cluster.url, tmp_path, replicas=3)) == 0
            break
        except JetStreamAPIError as exc:
            # The meta leader places a replica on a node only once that node's first statistics
            # have reached it: on a loaded machine a fresh cluster refuses R3 streams for a moment.
            if exc.err_code != NO_SUITABLE_PEERS or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    nc = await connect(nats_cluster.url)
    try:
        for subjects in STREAMS:
            info = await stream_info(nc, subjects.stream)
            assert info["config"]["num_replicas"] == 3, subjects.stream
            assert len(info["cluster"].get("replicas", [])) == 2  # a leader and two followers
    finally:
        await nc.close()
    stop = asyncio.Event()
    options = ServeOptions("membership", nats_cluster.url, tmp_path, health_port=free_port())
    task = await _serving(options, stop)
    stop.set()
    assert await task == 0


@pytest.mark.slow
def test_the_load_benchmark_drives_cos_serve_processes_through_the_gateway(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`cos bench load` in miniature: it must keep working as the API changes (figures not judged)."""
    assert main(["bench", "load", "--steps", "1,2", "--commands", "12", "--concurrency", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    steps = result["steps"]
    assert [s["communities"] for s in steps] == [1, 2]
    assert [s["setup"]["by_kind"]["create_community"]["n"] for s in steps] == [1, 1]  # grown, not rebuilt
    for step in steps:
        assert step["mix"]["commands"] >= 12
        assert set(step["mix"]["refusals"]) <= {
            "member_suspended",
            "not_a_member",
        }  # a read racing a suspension
        assert step["stored_commits"]["MEMBERSHIP"] > 0
    assert result["growth"]["from_communities"] == 1


async def test_a_gateway_process_takes_its_limits_and_origins_from_the_environment(tmp_path: Path) -> None:
    """`cos serve gateway` (and `cos run`) read COS_RATE_* and COS_CORS_ORIGINS as documented."""
    from cos.platform import provision

    with NatsServer(store_dir=tmp_path / "nats") as server:
        await provision(server.url)
        env = {
            "COS_RATE_WRITE_PER_S": "0.01",
            "COS_RATE_WRITE_BURST": "2",
            "COS_CORS_ORIGINS": "https://app.example.org",
        }
        gateway = ServeProcess("gateway", server.url, tmp_path / "data", env=env).start()
        try:
            await asyncio.to_thread(gateway.ready, 60.0)
            async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
                member = {"member": MemberKeys(SigningKey.generate()).did}
                statuses = [
                    (await http.post("/c/acme/auth/challenge", json=member)).status_code for _ in range(3)
                ]
                assert 429 not in statuses[:2], statuses  # the burst of two passes
                assert statuses[2] == 429, statuses
                preflight = await http.options(
                    "/c/acme/roll",
                    headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET"},
                )
                assert preflight.headers.get("access-control-allow-origin") == "https://app.example.org"
        finally:
            gateway.stop()
