"""`settled`: once it returns, the server has a subscription just made, so a message published right
after on another connection reaches it. The command router and the live stream's `ready` rely on it
(nats-py's own `flush()` can return before a queued SUB is processed)."""

from __future__ import annotations

import asyncio
import uuid

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from shared.commands import CommandClient, CommandRouter
from shared.natsclient import settled
from shared.testkit.plugin import unique_service


async def test_a_subscription_is_on_the_server_once_settled(nc: NATS, nats_url: str) -> None:
    publisher = await nats.connect(nats_url)
    try:
        for round_ in range(200):
            got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

            async def on(msg: Msg, got: asyncio.Future[bytes] = got) -> None:
                if not got.done():
                    got.set_result(msg.data)

            subject = f"settle.{uuid.uuid4().hex}"
            sub = await nc.subscribe(subject, cb=on)
            await settled(nc)
            await publisher.publish(subject, str(round_).encode())  # another connection: no ordering help
            await publisher.flush()
            assert await asyncio.wait_for(got, 10) == str(round_).encode()
            await sub.unsubscribe()
    finally:
        await publisher.close()


async def test_a_command_sent_the_moment_its_router_started_is_answered(nc: NATS, nats_url: str) -> None:
    caller = await nats.connect(nats_url)
    try:
        for _ in range(50):
            router = CommandRouter(unique_service("settle"))

            @router.command("echo", dict)
            async def echo(payload: dict[str, int], _: object) -> dict[str, int]:
                return payload

            await router.start(nc)
            try:
                assert await CommandClient(caller, timeout=10).call(router.service, "echo", {"n": 1}) == {
                    "n": 1
                }
            finally:
                await router.stop()
    finally:
        await caller.close()
