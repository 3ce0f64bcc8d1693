"""Composition root of the one-machine platform: embedded NATS, every stream, the services, the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import uvicorn
from nats.aio.client import Client as NATS

from cos.demo import seed_demo
from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.governance.subjects import SUBJECTS as GOVERNANCE
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.identity.subjects import SUBJECTS as IDENTITY
from services.knowledge.subjects import SUBJECTS as KNOWLEDGE
from services.membership.bootstrap import start_membership
from services.membership.subjects import SUBJECTS as MEMBERSHIP
from services.messaging.subjects import SUBJECTS as MESSAGING
from services.social.subjects import SUBJECTS as SOCIAL
from shared.jetstream import ServerTooOld, StreamSettings, ensure_stream
from shared.natsclient import connect
from shared.natsserver import NatsServer
from shared.notices import ensure_notice_stream
from shared.subjects import StreamSubjects
from shared.telemetry import setup_telemetry

AUDIT = StreamSubjects("AUDIT", "audit")
STREAMS: tuple[StreamSubjects, ...] = (
    IDENTITY,
    MEMBERSHIP,
    MESSAGING,
    GOVERNANCE,
    KNOWLEDGE,
    SOCIAL,
    AUDIT,
)


# Services after identity and membership, started in this order with the same signature.
MODULE_SERVICES = ("messaging", "governance", "knowledge", "social", "transparency", "warehouse")


class Stoppable(Protocol):
    async def stop(self) -> None: ...


ServiceStart = Callable[[NATS, str, Path], Awaitable[Stoppable]]


@dataclass(frozen=True)
class PlatformOptions:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    nats_url: str | None = None  # None: start an embedded nats-server in data_dir
    replicas: int = 1
    demo: bool = True  # seed (or find) the demo community once the services answer


class _Server(uvicorn.Server):
    """uvicorn re-raises the signal it caught once it has shut down, which would interrupt our
    own orderly shutdown (services, projections, NATS) half-way; the platform handles signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        if self.should_exit:
            self.force_exit = True  # a second signal: stop waiting for open connections
        self.should_exit = True


async def provision(nats_url: str, replicas: int = 1) -> None:
    """Create (or update) the stream of every service; safe to run on every start."""
    nc = await connect(nats_url, name="cos-provision")
    try:
        for subjects in STREAMS:
            await ensure_stream(nc, StreamSettings(subjects, replicas=replicas))
        await ensure_notice_stream(nc, replicas)
    finally:
        await nc.close()


async def serve(options: PlatformOptions, nats_url: str) -> None:
    setup_telemetry("community-os", configure_logs=bool(os.environ.get("COS_LOG_FORMAT")))
    await provision(nats_url, options.replicas)
    nc = await connect(nats_url, name="cos-services")
    settings = IdentitySettings.from_env()
    if not os.environ.get("COS_PUBLIC_PORT"):  # community DIDs name the port we really serve on
        settings = dataclasses.replace(settings, public_port=options.port)
    started: list[Stoppable] = []
    try:
        started.append(await start_identity(nc, nats_url, options.data_dir / "identity", settings))
        started.append(await start_membership(nc, nats_url, options.data_dir / "membership"))
        for name in MODULE_SERVICES:
            start = _module_start(name)
            if start is not None:
                started.append(await start(nc, nats_url, options.data_dir / name))
        seeding = asyncio.create_task(_seed_demo(options, nats_url)) if options.demo else None
        try:
            await _serve_gateway(options, nats_url)
        finally:
            if seeding is not None and not seeding.done():
                seeding.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await seeding
    finally:
        for service in reversed(started):
            await service.stop()
        await nc.close()


async def _seed_demo(options: PlatformOptions, nats_url: str) -> None:
    """Seed the demo community beside a serving gateway; a failure is reported, never fatal."""
    host = "localhost" if options.host in ("0.0.0.0", "::", "") else options.host  # noqa: S104
    demo_dir = options.data_dir / "demo"
    try:
        demo = await seed_demo(nats_url, f"http://{host}:{options.port}", demo_dir)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - the platform serves on without its demo
        print(f"  demo         not seeded: {type(exc).__name__}: {exc}", flush=True)
        return
    state = "seeded" if demo.seeded else "already there"
    print(f"  demo         {demo.name} ({demo.community}, {state}): {demo.url}", flush=True)
    print(f"  join as the demo user: {demo.invite_url}", flush=True)
    print(f"  demo people's recovery phrases (owner-only file): {demo_dir / 'demo.json'}", flush=True)


def _module_start(name: str) -> ServiceStart | None:
    """`services.<name>.bootstrap.start(nc, nats_url, data_dir)`, once the service provides it."""
    try:
        module = importlib.import_module(f"services.{name}.bootstrap")
    except ModuleNotFoundError as exc:
        if exc.name not in (f"services.{name}", f"services.{name}.bootstrap"):
            raise
        return None
    start: ServiceStart | None = getattr(module, "start", None)
    return start


def _cos_command() -> str:
    """How to call `cos` from here: the checkout's virtualenv, or (in the image) the one on PATH."""
    return ".venv/bin/cos" if Path(".venv/bin/cos").exists() else "cos"


async def _serve_gateway(options: PlatformOptions, nats_url: str) -> None:
    # Rate limits and CORS origins come from the environment (COS_RATE_*, COS_CORS_ORIGINS).
    settings = GatewaySettings.from_env(nats_url=nats_url, host=options.host, port=options.port)
    app = create_app(settings, [s.stream for s in STREAMS])
    config = uvicorn.Config(app, host=options.host, port=options.port, log_level="warning")
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, server.request_exit)
    print(f"Community OS is running at http://{options.host}:{options.port}", flush=True)
    print(f"  message bus  {nats_url}", flush=True)
    print(f"  data         {options.data_dir}", flush=True)
    print("  health       /healthz   readiness /readyz   API docs /docs", flush=True)
    print("  start a community of your own (keep admin.json: its phrase is the admin's key):", flush=True)
    cos = _cos_command()
    print(f"    {cos} keys new --json > admin.json", flush=True)
    print(
        f"    NATS_URL={nats_url} {cos} community create mycoop --name 'My Co-op' "
        """--admin "$(python3 -c 'import json; print(json.load(open("admin.json"))["did"])')\"""",
        flush=True,
    )
    await server.serve()


def run(options: PlatformOptions) -> int:
    """Run until interrupted; an embedded nats-server is stopped on the way out."""
    options.data_dir.mkdir(parents=True, exist_ok=True)
    nats: NatsServer | None = None
    url = options.nats_url
    if url is None:
        nats = NatsServer(store_dir=options.data_dir / "nats", name="cos")
        nats.start()
        url = nats.url
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(options, url))
    except ServerTooOld as exc:
        print(f"cos run: {exc} ({url})", file=sys.stderr)
        return 1
    finally:
        if nats is not None:
            nats.stop()
    return 0
