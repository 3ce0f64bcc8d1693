"""`cos serve SERVICE`: one service of the platform as its own process, against an existing NATS.

`cos run` puts everything in one process for one machine; `cos serve` is the same composition cut
at service boundaries for containers and Kubernetes: one process per service, all meeting on NATS.

    cos serve provision      create or update every stream (`--replicas 3` on a cluster), then exit
    cos serve identity       sessions, invites, community trust agents
    cos serve membership     communities, members, the roll
    cos serve messaging|governance|knowledge|social|transparency   the modules' services
    cos serve gateway        the HTTP API (stateless: run as many as you like)

Every process reads `NATS_URL` (comma-separated for a cluster) and keeps its files in
`$COS_DATA/<service>`. Services other than the gateway answer `GET /healthz` (the process is up),
`GET /readyz` (started and connected to NATS) and `GET /metrics` (Prometheus text) on
`--health-port` for probes and scrapers. SIGTERM or SIGINT stops the process in order: stop
taking commands, finish, close the connection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nats.errors
import uvicorn

from cos.platform import MODULE_SERVICES, STREAMS, Stoppable, _module_start, _Server, provision
from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.gateway.telemetry import prometheus_text
from shared.jetstream import JetStreamAPIError, JetStreamError, ServerTooOld
from shared.natsclient import Client, connect
from shared.natsserver import free_port
from shared.telemetry import setup_telemetry

SERVICES: tuple[str, ...] = ("provision", "identity", "membership", *MODULE_SERVICES, "gateway")
MAX_REQUEST_HEAD = 8 * 1024
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
T = TypeVar("T")


class ServeError(Exception):
    """The service cannot start: not provided yet, NATS unreachable, bad configuration."""


@dataclass(frozen=True)
class ServeOptions:
    service: str
    nats_url: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    health_port: int = 0  # 0: no health endpoint
    replicas: int = 1
    connect_timeout: float = 60.0


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run one service (or the gateway, or stream provisioning) as its own process",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("service", choices=SERVICES, metavar="SERVICE", help=", ".join(SERVICES))
    parser.add_argument(
        "--nats-url",
        default=os.environ.get("NATS_URL"),
        help="NATS server(s), comma-separated (default: $NATS_URL; required)",
    )
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("COS_DATA", "var")))
    parser.add_argument("--host", default=os.environ.get("COS_HOST", "127.0.0.1"), help="gateway address")
    parser.add_argument("--port", type=int, default=os.environ.get("COS_PORT") or "8000", help="gateway port")
    parser.add_argument(
        "--health-port",
        type=int,
        default=os.environ.get("COS_HEALTH_PORT") or "0",
        help="serve /healthz and /readyz on this port for probes (default $COS_HEALTH_PORT; 0: off)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=os.environ.get("COS_REPLICAS") or "1",
        help="stream replicas when provisioning (3 on a 3-node JetStream cluster; default $COS_REPLICAS)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=os.environ.get("COS_CONNECT_TIMEOUT") or "60",
        help="how long to keep trying to reach NATS at start, in seconds",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    if not args.nats_url:
        print("cos serve: set NATS_URL or pass --nats-url (cos run starts its own server)", file=sys.stderr)
        return 2
    if args.replicas not in (1, 3, 5):
        print("cos serve: --replicas must be 1, 3 or 5", file=sys.stderr)
        return 2
    options = ServeOptions(
        service=args.service,
        nats_url=args.nats_url,
        data_dir=args.data_dir.resolve(),
        host=args.host,
        port=args.port,
        health_port=args.health_port,
        replicas=args.replicas,
        connect_timeout=args.connect_timeout,
    )
    # Each process is its own OpenTelemetry service (OTLP export if configured), logging JSON lines.
    setup_telemetry(os.environ.get("OTEL_SERVICE_NAME") or f"cos-{args.service}", configure_logs=True)
    try:
        return asyncio.run(serve(options))
    except (ServeError, ServerTooOld) as exc:
        print(f"cos serve {args.service}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


async def serve(options: ServeOptions, stop: asyncio.Event | None = None) -> int:
    """Run `options.service` until `stop` is set, by default on SIGTERM/SIGINT (provisioning
    returns once the streams exist; the gateway always stops on signals)."""
    if options.service == "provision":
        await _retrying(lambda: provision(options.nats_url, options.replicas), options.connect_timeout)
        names = ", ".join(s.stream for s in STREAMS)
        print(f"streams ready ({options.replicas} replica(s)): {names}", flush=True)
        return 0
    if options.service == "gateway":
        await _serve_gateway(options)
        return 0
    return await _serve_service(options, stop)


NO_SUITABLE_PEERS = 10005  # JSClusterNoPeersErr


def _transient(exc: BaseException) -> bool:
    """NATS or JetStream not there yet (starting, electing a leader), as opposed to a refusal."""
    if isinstance(exc, ServerTooOld):
        return False  # waiting will not make the server newer
    if isinstance(exc, JetStreamAPIError):
        # JetStream temporarily unavailable; or a cluster still forming, whose nodes have not yet
        # reported to the meta leader, so a replicated stream has "no suitable peers" to go on
        return exc.code == 503 or exc.err_code == NO_SUITABLE_PEERS
    return isinstance(exc, OSError | nats.errors.Error | TimeoutError | JetStreamError)


async def _retrying(attempt: Callable[[], Awaitable[T]], within: float) -> T:
    """Await `attempt()` until NATS and JetStream answer it, for at most `within` seconds."""
    deadline = time.monotonic() + within
    delay = 0.2
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not _transient(exc):
                raise
            if time.monotonic() + delay > deadline:
                raise ServeError(f"NATS not available within {within:g}s: {exc!r}") from exc
            print(f"waiting for NATS ({exc!r})", file=sys.stderr, flush=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


async def _wait_for_nats(options: ServeOptions) -> None:
    """Return once NATS answers: nats-py's own first connect would retry forever when
    reconnecting is on, so reachability is probed with one-shot clients first."""

    async def quiet(exc: Exception) -> None:
        return None

    async def probe() -> None:
        client = await connect(
            options.nats_url,
            max_reconnect_attempts=1,  # 0 would mean "forever" to nats-py's first connect
            reconnect_time_wait=0.1,
            allow_reconnect=False,
            connect_timeout=2,
            error_cb=quiet,
        )
        await client.close()

    await _retrying(probe, options.connect_timeout)


async def _connect(options: ServeOptions) -> Client:
    """The process's connection (reconnecting forever), once NATS answers."""
    await _wait_for_nats(options)
    return await connect(options.nats_url, name=f"cos-{options.service}")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)


async def _start(service: str, nc: Client, nats_url: str, data_dir: Path) -> Stoppable:
    if service == "identity":
        from services.identity.bootstrap import start_identity

        return await start_identity(nc, nats_url, data_dir)
    if service == "membership":
        from services.membership.bootstrap import start_membership

        return await start_membership(nc, nats_url, data_dir)
    start = _module_start(service)
    if start is None:
        raise ServeError(f"the {service} service has no services/{service}/bootstrap.py start() yet")
    return await start(nc, nats_url, data_dir)


async def _serve_service(options: ServeOptions, stop: asyncio.Event | None) -> int:
    nc = await _connect(options)  # until connected, SIGTERM ends the process as usual
    if stop is None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
    health = HealthEndpoint(options.service, nc)
    try:
        if options.health_port:
            await health.start(options.host, options.health_port)
        service = await _start(options.service, nc, options.nats_url, options.data_dir / options.service)
        health.ready = True
        print(f"{options.service} serving on {options.nats_url}", flush=True)
        try:
            await stop.wait()
        finally:
            health.ready = False
            await service.stop()
    finally:
        await health.stop()
        with contextlib.suppress(nats.errors.Error):
            await nc.drain()
        await nc.close()
    print(f"{options.service} stopped", flush=True)
    return 0


async def _serve_gateway(options: ServeOptions) -> None:
    # Rate limits and CORS origins come from the environment (COS_RATE_*, COS_CORS_ORIGINS).
    settings = GatewaySettings.from_env(nats_url=options.nats_url, host=options.host, port=options.port)
    # The gateway's own connection is opened in the app's lifespan; wait for NATS first so that
    # a gateway started before the bus does not crash-loop.
    await _wait_for_nats(options)
    app = create_app(settings, [s.stream for s in STREAMS])
    config = uvicorn.Config(app, host=options.host, port=options.port, log_level="warning")
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, server.request_exit)
    print(f"gateway listening on http://{options.host}:{options.port} (NATS {options.nats_url})", flush=True)
    await server.serve()


@dataclass
class HealthEndpoint:
    """`GET /healthz` and `GET /readyz` over plain HTTP/1.1 for a service that has no HTTP of its own."""

    service: str
    nc: Client
    ready: bool = False
    _server: asyncio.Server | None = field(default=None, repr=False)

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port, limit=MAX_REQUEST_HEAD)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def answer(self, method: str, path: str) -> tuple[int, str, bytes]:
        """Status, content type and body for one request."""
        path = path.split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            return _json(405, _error("method_not_allowed", "only GET and HEAD"))
        if path == "/healthz":
            return _json(200, {"status": "ok", "service": self.service})
        if path == "/readyz":
            if not self.ready:
                return _json(503, _error("starting", f"{self.service} is not serving commands"))
            if not self.nc.is_connected:
                return _json(503, _error("nats_unavailable", "the message bus is not connected"))
            return _json(200, {"status": "ready", "service": self.service})
        if path == "/metrics":
            reader = setup_telemetry().metrics_reader
            # collecting runs the consumer-lag callbacks, which ask JetStream: off the event loop
            data = await asyncio.to_thread(reader.get_metrics_data)
            return 200, PROMETHEUS, prometheus_text(data).encode()
        return _json(404, _error("not_found", f"no {path}; try /healthz, /readyz or /metrics"))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method = "GET"
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            method, path, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            status, content_type, payload = await self.answer(method, path)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            status, content_type, payload = _json(400, _error("bad_request", "malformed HTTP request"))
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}.get(
            status, "Service Unavailable"
        )
        writer.write(
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\n"
            f"content-length: {len(payload)}\r\nconnection: close\r\n\r\n".encode()
        )
        if method != "HEAD":
            writer.write(payload)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _json(status: int, body: dict[str, Any]) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(body).encode()


def _error(type_: str, message: str) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message}}


@dataclass
class ServeProcess:
    """`cos serve SERVICE` as a child process on loopback: what tests and `cos bench load` start.

    `ready()` polls the process's readiness URL (the gateway's `/readyz`, or a service's health
    port); `stop()` sends SIGTERM and returns the exit code with everything the process printed.
    """

    service: str
    nats_url: str
    data_dir: Path
    port: int = 0  # gateway: HTTP port; services: health port (0: choose a free one)
    env: dict[str, str] = field(default_factory=dict)
    output: str = ""
    _process: subprocess.Popen[str] | None = field(default=None, repr=False)
    _log: Path | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServeProcess:
        self.port = self.port or free_port()
        flag = "--port" if self.service == "gateway" else "--health-port"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.data_dir / f"{self.service}-{self.port}.log"
        command = [sys.executable, "-m", "cos.cli", "serve", self.service, "--nats-url", self.nats_url]
        command += ["--data-dir", str(self.data_dir), flag, str(self.port)]
        with open(self._log, "w") as log:
            self._process = subprocess.Popen(
                command,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        return self

    def ready(self, within: float = 60.0) -> ServeProcess:
        """Block until `/readyz` answers 200; raise with the process's output if it exits or stalls."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise ServeError(f"cos serve {self.service} exited early:\n{self.read_output()}")
            url = f"{self.url}/readyz"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return self
            time.sleep(0.1)
        raise ServeError(f"cos serve {self.service} not ready within {within:g}s:\n{self.read_output()}")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def wait(self, within: float = 120.0) -> int:
        """Wait for a process that ends by itself (`provision`); its exit code."""
        if self._process is None:
            raise ServeError(f"cos serve {self.service} was not started")
        code = self._process.wait(within)
        self._process = None
        self.output = self.read_output()
        return code

    def read_output(self) -> str:
        return self._log.read_text() if self._log is not None and self._log.exists() else ""

    def stop(self, within: float = 30.0) -> int:
        """SIGTERM, wait, SIGKILL if it hangs; the exit code (negative: killed by that signal)."""
        process, self._process = self._process, None
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(within)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.output = self.read_output()
        return process.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
