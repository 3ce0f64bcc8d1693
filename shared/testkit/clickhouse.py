"""A real ClickHouse server for tests: started on free loopback ports in a temporary directory.

The binary is `$COS_CLICKHOUSE_SERVER`, else `clickhouse-server` on PATH or in /usr/sbin (Debian's
package), else a `clickhouse` multi-call binary (`clickhouse server`). Tests that need one use the
`clickhouse_server` fixture; it skips, naming what is missing, only when no binary can be found.
Whether the server is new enough for the warehouse is the test's business (`ClickHouseServer.version`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

__all__ = ["ClickHouseServer", "clickhouse_server", "find_clickhouse_server"]

_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{root}/log/server.log</log><errorlog>{root}/log/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{http_port}</http_port>
  <tcp_port>{tcp_port}</tcp_port>
  <path>{root}/data/</path>
  <tmp_path>{root}/tmp/</tmp_path>
  <user_files_path>{root}/user_files/</user_files_path>
  <format_schema_path>{root}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
</yandex>
"""

_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
"""


def find_clickhouse_server() -> list[str] | None:
    """The command that runs a ClickHouse server, or None when this machine has none."""
    explicit = os.environ.get("COS_CLICKHOUSE_SERVER")
    if explicit:
        return [explicit]
    for name in ("clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"):
        found = shutil.which(name)
        if found:
            return [found]
    multi = shutil.which("clickhouse")
    if multi:
        return [multi, "server"]
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ClickHouseServer:
    """One server process; `url` is its HTTP interface, `version` what it says it is."""

    def __init__(self, command: list[str], root: Path) -> None:
        self.command = command
        self.root = root
        self.http_port = _free_port()
        self.tcp_port = _free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.version = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: BinaryIO | None = None

    def start(self, timeout_s: float = 60.0) -> None:
        for sub in ("data", "tmp", "user_files", "format_schemas", "log"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        config = self.root / "config.xml"
        config.write_text(_CONFIG.format(root=self.root, http_port=self.http_port, tcp_port=self.tcp_port))
        (self.root / "users.xml").write_text(_USERS)
        self._stderr = (self.root / "log" / "stderr.log").open("wb")
        self._process = subprocess.Popen(
            [*self.command, f"--config-file={config}"],
            cwd=self.root,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self.stop()
                raise RuntimeError(f"ClickHouse server exited: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/?query=SELECT%20version()", timeout=2) as reply:  # noqa: S310
                    self.version = reply.read().decode().strip()
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"ClickHouse server did not answer within {timeout_s}s: {self.log_tail()}")

    def log_tail(self) -> str:
        parts = []
        for name in ("stderr.log", "error.log"):
            path = self.root / "log" / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-2000:])
        return "\n".join(parts)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


@pytest.fixture(scope="session")
def clickhouse_server() -> Iterator[ClickHouseServer]:
    """A ClickHouse server for the session; skips when no binary can be had (scripts/ensure-clickhouse)."""
    command = find_clickhouse_server()
    if command is None:
        pytest.skip(
            "no ClickHouse server binary (clickhouse-server / clickhouse on PATH, or COS_CLICKHOUSE_SERVER); "
            "scripts/ensure-clickhouse installs Debian's"
        )
    with tempfile.TemporaryDirectory(prefix="cos-clickhouse-") as tmp:
        server = ClickHouseServer(command, Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()
