"""`cos run` as a person runs it: a real process that serves the platform, then stops cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.commands import CommandClient
from shared.natsclient import connect
from shared.natsserver import free_port

# `cos run` starts a nats-server and every service in one process: on a loaded machine, reads that
# cross it are slower than httpx's 5 s default allows for.
HTTP_TIMEOUT = 30


@dataclass
class Platform:
    base: str
    data_dir: Path
    output: str = ""  # all of it, once stopped
    returncode: int | None = None
    lines: list[str] = field(default_factory=list)  # what it has printed so far, while running

    def wait_for_line(self, text: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            time.sleep(0.2)
        raise AssertionError(f"cos run printed no line with {text!r}:\n{''.join(self.lines)}")

    def nats_url(self) -> str:
        for line in (self.data_dir / "nats" / "cos.log").read_text().splitlines():
            if "Listening for client connections on" in line:
                return "nats://" + line.rsplit(" ", 1)[-1]
        raise AssertionError("the nats-server log names no client port")


@contextmanager
def running_platform(data_dir: Path, *, demo: bool = False) -> Iterator[Platform]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "NATS_URL"}
    command = [sys.executable, "-m", "cos.cli", "run", "--data-dir", str(data_dir), "--port", str(port)]
    proc = subprocess.Popen(
        command if demo else [*command, "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    platform = Platform(f"http://127.0.0.1:{port}", data_dir)
    lines: list[str] = []
    assert proc.stdout is not None
    stdout = proc.stdout
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")), daemon=True)
    reader.start()
    platform.lines = lines
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{platform.base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "cos run exited before it was ready"
            assert time.monotonic() < deadline, f"cos run was not ready in 180 s:\n{''.join(lines)}"
            time.sleep(0.2)
        yield platform
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)  # every service stops in turn; a loaded machine takes its time
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()
        platform.output = "".join(lines)
        platform.returncode = proc.returncode


def test_cos_run_serves_the_gateway_with_every_stream_ready(tmp_path: Path) -> None:
    with running_platform(tmp_path) as platform:
        ready = httpx.get(f"{platform.base}/readyz", timeout=HTTP_TIMEOUT)
        assert ready.status_code == 200
        streams = {s["name"] for s in ready.json()["streams"]}
        assert streams == {
            "IDENTITY",
            "MEMBERSHIP",
            "MESSAGING",
            "GOVERNANCE",
            "KNOWLEDGE",
            "SOCIAL",
            "AUDIT",
        }
        assert httpx.get(f"{platform.base}/healthz", timeout=HTTP_TIMEOUT).json() == {"status": "ok"}
        assert (tmp_path / "nats").is_dir()
    assert platform.returncode == 0, platform.output
    assert platform.base in platform.output


def test_cos_run_publishes_a_community_did_log_and_status_lists(tmp_path: Path) -> None:
    with running_platform(tmp_path) as platform:
        missing = httpx.get(f"{platform.base}/c/acme/did.jsonl", timeout=HTTP_TIMEOUT)
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "not_found"

        async def create() -> str:
            nc = await connect(platform.nats_url())
            try:
                result = await CommandClient(nc).call("identity", "community_did", {"community": "acme"})
            finally:
                await nc.close()
            return str(result["did"])

        did = asyncio.run(create())
        log = httpx.get(f"{platform.base}/c/acme/did.jsonl", timeout=HTTP_TIMEOUT)
        assert log.status_code == 200
        assert json.loads(log.text.splitlines()[0])["state"]["id"] == did
        status = httpx.get(f"{platform.base}/c/acme/status/suspension", timeout=HTTP_TIMEOUT).json()
        assert status["credentialSubject"]["statusPurpose"] == "suspension"
        assert httpx.get(f"{platform.base}/c/acme/status/other", timeout=HTTP_TIMEOUT).status_code == 422
        resolved = subprocess.run(
            [sys.executable, "-m", "cos.cli", "did", "resolve", did],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert resolved.returncode == 0, resolved.stderr
        assert json.loads(resolved.stdout)["id"] == did
    assert platform.returncode == 0, platform.output


def test_a_hosting_provider_creates_a_community_on_a_running_platform(tmp_path: Path) -> None:
    admin = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    with running_platform(tmp_path) as platform:
        env = {**os.environ, "NATS_URL": platform.nats_url()}
        created = subprocess.run(
            [sys.executable, "-m", "cos.cli", "community", "create", "acme", "--name", "Acme Co-op",
             "--admin", admin],
            capture_output=True, text=True, timeout=60, check=False, env=env,
        )  # fmt: skip
        assert created.returncode == 0, created.stdout + created.stderr
        log = httpx.get(f"{platform.base}/c/acme/did.jsonl", timeout=HTTP_TIMEOUT)
        assert log.status_code == 200  # membership asked identity for the community's DID
        again = subprocess.run(
            [sys.executable, "-m", "cos.cli", "community", "create", "acme", "--name", "Acme",
             "--admin", admin],
            capture_output=True, text=True, timeout=60, check=False, env=env,
        )  # fmt: skip
        assert again.returncode != 0
        assert "exists" in (again.stdout + again.stderr)
        # The provider's overview: every community with its members in each standing.
        listed = subprocess.run(
            [sys.executable, "-m", "cos.cli", "community", "list"],
            capture_output=True, text=True, timeout=60, check=False, env=env,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        header, *rows, total = listed.stdout.splitlines()
        assert header.split()[:5] == ["SLUG", "NAME", "ACTIVE", "PENDING", "OTHER"]
        assert [r.split()[:5] for r in rows if r.startswith("acme ")] == [["acme", "Acme", "Co-op", "1", "0"]]
        as_json = subprocess.run(
            [sys.executable, "-m", "cos.cli", "community", "list", "--json", "--search", "ACME"],
            capture_output=True, text=True, timeout=60, check=False, env=env,
        )  # fmt: skip
        found = json.loads(as_json.stdout)
        assert [(c["slug"], c["members"], c["created_by"]) for c in found["communities"]] == [
            ("acme", {"active": 1}, "operator")
        ]
        assert total.endswith(("community", "communities"))
    assert platform.returncode == 0, platform.output


def test_cos_run_seeds_the_demo_community_once_and_prints_the_invite(tmp_path: Path) -> None:
    with running_platform(tmp_path, demo=True) as platform:
        invite = platform.wait_for_line("join as the demo user: ")
        assert f"{platform.base}/app/#/join?c=demo" in invite
        platform.wait_for_line("(demo, seeded)")
        community = httpx.get(f"{platform.base}/c/demo", timeout=HTTP_TIMEOUT).json()
        assert community["name"] == "Riverside Food Co-op"
        state = json.loads((tmp_path / "demo" / "demo.json").read_text())
        assert state["poll"]
        assert state["forums"]
        assert state["announcements"]
        assert state["blog"]
        posts = httpx.get(f"{platform.base}/c/demo/blog", timeout=HTTP_TIMEOUT)  # public: no sign-in
        assert posts.status_code == 200, posts.text
        assert "Starting a seed library at the shop" in posts.text
    assert platform.returncode == 0, platform.output

    with running_platform(tmp_path, demo=True) as again:  # a second start finds it all there
        again.wait_for_line("(demo, already there)")
    assert again.returncode == 0, again.output
