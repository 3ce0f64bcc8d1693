"""The platform for the browser tests, in its own process: embedded NATS, the services the web app
uses, the gateway and the seeded demo community (as `cos run` starts them), announcing itself on
stdout.

    python -m tests.browser.stack --data-dir DIR --port PORT

prints one JSON line `{"base": …, "nats_url": …, "demo": {…}}` once the gateway is ready, then
serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import uvicorn
from aiosmtpd.controller import Controller
from nats.aio.client import Client as NATS

from cos.demo import seed_demo
from cos.platform import STREAMS, PlatformOptions, provision
from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.membership.bootstrap import start_membership
from shared.natsclient import connect
from shared.natsserver import NatsServer, free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Stack:
    base: str
    nats_url: str
    data_dir: Path
    demo: dict[str, Any]

    def phrase(self, name: str) -> str:
        """The recovery phrase of a seeded demo person (kept in the demo's state file)."""
        people: dict[str, str] = json.loads((self.data_dir / "demo" / "demo.json").read_text())["people"]
        return people[name]


class StackFailed(RuntimeError):
    pass


@contextlib.contextmanager
def running_stack(data_dir: Path) -> Iterator[Stack]:
    """Start the platform (seeded) in a child process; stop it (SIGINT, as a person would) after."""
    env = {k: v for k, v in os.environ.items() if k != "NATS_URL"}
    log = data_dir / "platform.log"
    with log.open("w") as errors:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.browser.stack",
                "--data-dir",
                str(data_dir),
                "--port",
                str(free_port()),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=30)
            raise StackFailed(f"the platform did not start:\n{log.read_text()[-4000:]}")
        announced = json.loads(line)
        yield Stack(announced["base"], announced["nats_url"], data_dir, announced["demo"])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


# The services the web app uses, started the way `cos run` starts them (identity and membership,
# then each module's `services.<name>.bootstrap.start`); modules the app does not use are left out,
# so these tests do not depend on them.
MODULES = ("messaging", "governance", "knowledge", "social")


class Stoppable(Protocol):
    async def stop(self) -> None: ...


async def _start_services(nc: NATS, nats_url: str, data_dir: Path, port: int) -> list[Stoppable]:
    settings = dataclasses.replace(IdentitySettings.from_env(), public_port=port)
    started: list[Stoppable] = [
        await start_identity(nc, nats_url, data_dir / "identity", settings),
        await start_membership(nc, nats_url, data_dir / "membership"),
    ]
    for name in MODULES:
        try:
            module = importlib.import_module(f"services.{name}.bootstrap")
        except ModuleNotFoundError:
            continue  # not built yet: its screens stay dark in the app
        start: Callable[[NATS, str, Path], Awaitable[Stoppable]] | None = getattr(module, "start", None)
        if start is not None:
            started.append(await start(nc, nats_url, data_dir / name))
    return started


class MailDrop:
    """A real SMTP server's handler (aiosmtpd) that keeps each accepted message as a file in
    `<data dir>/mail/`, where a test reads what a member was sent (a verification link). An
    address listed in `<data dir>/mail/gone` is refused as a mailbox that no longer exists."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def handle_RCPT(
        self, server: object, session: object, envelope: Any, address: str, options: list[str]
    ) -> str:
        gone = self.directory / "gone"
        if gone.exists() and address in gone.read_text().split():
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.count += 1
        (self.directory / f"{self.count:04d}.eml").write_bytes(envelope.original_content or b"")
        return "250 Message accepted"


async def _main(options: PlatformOptions, nats_url: str) -> None:
    base = f"http://{options.host}:{options.port}"
    await provision(nats_url)
    # Messaging mails through this server, with links back to this gateway (as `cos run` does when
    # MESSAGING_SMTP_HOST is set).
    smtp = Controller(MailDrop(options.data_dir / "mail"), hostname="127.0.0.1", port=free_port())
    smtp.start()
    # Forum and chat mails wait two seconds (not ten minutes) for their reader to come back.
    os.environ.update(
        MESSAGING_SMTP_HOST="127.0.0.1",
        MESSAGING_SMTP_PORT=str(smtp.port),
        MESSAGING_PUBLIC_URL=base,
        MESSAGING_MAIL_DELAY="2",
    )
    nc = await connect(nats_url, name="cos-test-services")
    started: list[Stoppable] = []
    try:
        started = await _start_services(nc, nats_url, options.data_dir, options.port)
        app = create_app(
            GatewaySettings(nats_url=nats_url, host=options.host, port=options.port),
            [s.stream for s in STREAMS],
        )
        server = uvicorn.Server(
            uvicorn.Config(app, host=options.host, port=options.port, log_level="warning")
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: setattr(server, "should_exit", True))
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                await serving  # raise what stopped it
                return
            await asyncio.sleep(0.05)
        demo = await seed_demo(nats_url, base, options.data_dir / "demo")
        print(json.dumps({"base": base, "nats_url": nats_url, "demo": dataclasses.asdict(demo)}), flush=True)
        await serving
    finally:
        for service in reversed(started):
            await service.stop()
        await nc.close()
        smtp.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    options = PlatformOptions(data_dir=args.data_dir, port=args.port)
    with NatsServer(store_dir=args.data_dir / "nats", name="cos") as nats:
        asyncio.run(_main(options, nats.url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
