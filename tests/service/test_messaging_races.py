"""A member's act whose save loses a race (another of her tabs, the mail worker) is decided again on
the fresh record by the messaging service's router: she is not told "changed concurrently, try
again", and what the winner recorded is kept. Through the real bus, on a real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from shared.commands import CommandClient
from shared.retry import retrying

from .test_messaging_support import World, running_world, statement


@pytest.fixture
async def world(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(nc, nats_url, tmp_path) as started:
        yield started


async def test_her_summary_setting_is_kept_when_another_tab_changed_her_settings_first(
    world: World, nc: NATS
) -> None:
    bea = await world.admit("Bea")
    await world.act(bea, "set_notification_level", {"scope": "chat", "level": "muted"})  # her record exists
    original = world.handlers.save
    raced: list[str] = []

    async def save(*aggregates: Any) -> Any:
        if not raced:  # her other tab's change lands between this command's load and its save
            raced.append("discuss")
            await retrying(
                lambda: world.act(bea, "set_notification_level", {"scope": "discuss", "level": "watching"})
            )
        return await original(*aggregates)

    world.handlers.save = save  # type: ignore[method-assign]
    body = {"frequency": "daily", "hour": 6}
    payload = {
        "community": world.community,
        "statement": statement(bea, "messaging.set_digest", world.community, body),
    }
    answer = await CommandClient(nc).call("messaging", "set_digest", payload)

    assert raced == ["discuss"]
    assert answer["frequency"] == "daily"
    status = await world.query(bea, "email_status")
    assert (status["chat"], status["discuss"]) == ("muted", "watching")  # the other tab's change is kept
    assert (status["digest"]["frequency"], status["digest"]["hour"]) == ("daily", 6)
