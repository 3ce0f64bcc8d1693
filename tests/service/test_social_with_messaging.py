"""An introduction opens its group chat in the real messaging service (over NATS, no imports of it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.membership.bootstrap import start_membership
from services.messaging.bootstrap import start_messaging
from services.social.bootstrap import start_social
from services.social.client.signing import (
    introducer_leave_request,
    introduction_chat_request,
    signed_relationship,
)

from .test_social_gateway import community_of


@pytest.fixture
async def http(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    identity = await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings())
    membership = await start_membership(nc, nats_url, tmp_path / "membership")
    messaging = await start_messaging(nc, nats_url, tmp_path / "messaging")
    social = await start_social(nc, nats_url, tmp_path / "social")
    app = create_app(GatewaySettings(nats_url=nats_url), [])
    app.state.nats = nc
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client
    finally:
        await social.stop()
        await messaging.stop()
        await membership.stop()
        await identity.stop()


async def test_the_second_consent_opens_the_introductions_private_group_chat(http: httpx.AsyncClient) -> None:
    ada, bea, cal = await community_of(http, "Ada", "Bea", "Cal")
    intro = uuid.uuid4().hex[:12]
    proposed = await ada.act(
        "propose_introduction", {"introduction": intro, "first": bea.did, "second": cal.did}
    )
    assert proposed.status_code == 200, proposed.text
    answered = None
    for me, other in ((bea, cal), (cal, bea)):
        body: dict[str, Any] = {
            "introduction": intro,
            "consent": True,
            "relationship": signed_relationship(me.keys, other.did),
            "chat": introduction_chat_request(me.keys, me.community, intro, [ada.did, bea.did, cal.did]),
        }
        answered = await me.act("answer_introduction", body)
        assert answered.status_code == 200, answered.text
    assert answered is not None
    connected = answered.json()
    chat = f"intro-{intro}"
    assert (connected["status"], connected["chat_status"], connected["chat"]) == ("connected", "opened", chat)

    goodbye = introducer_leave_request(ada.keys, ada.community, chat, [bea.did, cal.did])
    left = await ada.act("leave_introduction", {"introduction": intro, "chat": goodbye})
    assert (left.json()["introducer_left"], left.json()["introducer_in_chat"]) == (True, False), left.text
