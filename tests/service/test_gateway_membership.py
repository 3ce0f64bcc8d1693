"""The gateway over real identity and membership services: a community forms through HTTP."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
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
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.testkit.plugin import unique_service
from shared.trust.member_keys import MemberKeys


@pytest.fixture
async def http(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    identity = await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings())
    membership = await start_membership(nc, nats_url, tmp_path / "membership")
    app = create_app(GatewaySettings(nats_url=nats_url), [])
    app.state.nats = nc
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client
    finally:
        await membership.stop()
        await identity.stop()


class Person:
    def __init__(self, http: httpx.AsyncClient, community: str) -> None:
        self.keys = MemberKeys(SigningKey.generate())
        self.http, self.community = http, community
        self.auth: dict[str, str] = {}

    @property
    def did(self) -> str:
        return self.keys.did

    def sign(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        return sign_statement(
            self.keys, action=action, community=self.community, body=body,
            nonce=secrets.token_hex(16), now=datetime.now(tz=UTC),
        )  # fmt: skip

    async def sign_in(self) -> Person:
        base = f"/c/{self.community}/auth"
        challenge = (await self.http.post(f"{base}/challenge", json={"member": self.did})).json()
        answer = self.sign("identity.sign_in", {"challenge": challenge["challenge"]})
        tokens = (await self.http.post(f"{base}/sign-in", json={"statement": answer})).json()
        self.auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        return self

    async def act(self, act: str, body: dict[str, Any]) -> httpx.Response:
        statement = self.sign(f"membership.{act}", body)
        return await self.http.post(
            f"/c/{self.community}/acts/{act}", json={"statement": statement}, headers=self.auth
        )

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"/c/{self.community}{path}", headers=self.auth)


async def test_a_community_forms_and_reads_its_roll_through_the_gateway(http: httpx.AsyncClient) -> None:
    community = unique_service("c")
    ada = await Person(http, community).sign_in()
    created = await http.post(
        f"/c/{community}",
        json={"name": "River Co-op", "statement": ada.sign("membership.create_community", {"name": "Ada"})},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    assert (await http.get(f"/c/{community}")).json()["name"] == "River Co-op"

    bea = await Person(http, community).sign_in()
    applied = await http.post(
        f"/c/{community}/apply", json={"statement": bea.sign("membership.apply", {"name": "Bea"})}
    )
    assert applied.status_code == 200, applied.text
    admitted = await ada.act("admit", {"member": bea.did})
    assert admitted.json()["standing"] == "active", admitted.text

    roll = await bea.get("/roll")
    assert roll.json()["members"] == sorted([ada.did, bea.did])
    assert (await bea.get(f"/members/{bea.did}")).json()["roles"] == ["member"]

    outsider = await Person(http, community).sign_in()
    assert (await outsider.get("/directory")).json()["error"]["type"] == "not_a_member"
    refused = await bea.act("suspend", {"member": ada.did})
    assert (refused.status_code, refused.json()["error"]["type"]) == (403, "not_an_admin")
    borrowed = await http.post(
        f"/c/{community}/acts/admit",
        json={"statement": bea.sign("membership.admit", {"member": outsider.did})},
        headers=ada.auth,
    )
    assert borrowed.json()["error"]["type"] == "not_your_statement"
    assert (
        await http.post(f"/c/{community}/acts/nope", json={"statement": {}}, headers=ada.auth)
    ).status_code == 422
