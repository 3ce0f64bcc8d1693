"""The gateway over a real identity service: sign-in, invites, contacts, and typed refusals."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.identity.bootstrap import IdentityService, start_identity
from services.identity.config import IdentitySettings
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually_async
from shared.trust.credentials import issue_credential
from shared.trust.datetimes import format_datetime
from shared.trust.member_keys import MemberKeys


@pytest.fixture
async def identity(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[IdentityService]:
    service = await start_identity(nc, nats_url, tmp_path, IdentitySettings())
    yield service
    await service.stop()


@pytest.fixture
async def http(nc: NATS, nats_url: str, identity: IdentityService) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(GatewaySettings(nats_url=nats_url), [])
    app.state.nats = nc  # what the lifespan would set; the test owns the connection
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client


def now() -> datetime:
    return datetime.now(tz=UTC)


def statement(keys: MemberKeys, action: str, community: str, body: dict[str, Any]) -> dict[str, Any]:
    return sign_statement(
        keys, action=action, community=community, body=body, nonce=secrets.token_hex(16), now=now()
    )


async def sign_in(http: httpx.AsyncClient, keys: MemberKeys, community: str) -> dict[str, Any]:
    answer = await http.post(f"/c/{community}/auth/challenge", json={"member": keys.did})
    assert answer.status_code == 200, answer.text
    signed = statement(keys, "identity.sign_in", community, {"challenge": answer.json()["challenge"]})
    tokens = await http.post(f"/c/{community}/auth/sign-in", json={"statement": signed})
    assert tokens.status_code == 200, tokens.text
    return dict(tokens.json())


def member() -> MemberKeys:
    return MemberKeys(SigningKey.generate())


async def test_a_member_signs_in_invites_and_sees_her_new_contact(http: httpx.AsyncClient) -> None:
    community = unique_service("c")
    ada, bea = member(), member()
    tokens = await sign_in(http, ada, community)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    ident, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
    credential = issue_credential(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "InvitationCredential"],
            "issuer": ada.did,
            "validFrom": format_datetime(now() - timedelta(minutes=1)),
            "credentialSubject": {"name": "Bea"},
        },
        ada,
        created=now(),
    )
    body = {
        "invite": ident,
        "recipient_name": "Bea",
        "expires_at": format_datetime(now() + timedelta(days=7)),
        "token_hash": hashlib.sha256(secret.encode()).hexdigest(),
        "credential": credential,
    }
    created = await http.post(
        f"/c/{community}/invites",
        json={"statement": statement(ada, "identity.create_invite", community, body)},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    found = (await http.get(f"/c/{community}/invites/{ident}")).json()
    # No membership service runs here: the open invite still answers, naming the inviter by key only.
    assert (found["status"], found["inviter"], found["inviter_name"]) == ("pending", ada.did, None)

    accept = statement(bea, "identity.accept_invite", community, {"invite": ident, "token": secret})
    accepted = await http.post(f"/c/{community}/invites/{ident}/accept", json={"statement": accept})
    assert accepted.json()["status"] == "accepted"

    async def contacts() -> list[dict[str, Any]]:
        reply = await http.get(f"/c/{community}/me/contacts", headers=auth)
        return list(reply.json()["contacts"])

    async def connected() -> list[dict[str, Any]]:
        listed = await contacts()
        return listed if listed and listed[0]["status"] == "connected" else []

    listed = await eventually_async(connected, within=30)
    assert listed[0]["did"] == bea.did

    refreshed = await http.post(
        f"/c/{community}/auth/refresh",
        json={"session": tokens["session"], "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200
    out = await http.post(
        f"/c/{community}/auth/sign-out",
        json={"session": tokens["session"], "refresh_token": refreshed.json()["refresh_token"]},
    )
    assert out.json() == {"session": tokens["session"], "active": False}


async def test_refusals_are_typed_http_errors(http: httpx.AsyncClient) -> None:
    community = unique_service("c")
    ada = member()
    tokens = await sign_in(http, ada, community)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    async def error(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["type"]

    assert await error(await http.get(f"/c/{community}/me/contacts")) == (401, "unauthenticated")
    other = await http.get(f"/c/{unique_service('c')}/me/contacts", headers=auth)
    assert await error(other) == (403, "wrong_community")
    forged = tokens["access_token"][:-4] + ("AAAA" if not tokens["access_token"].endswith("AAAA") else "BBBB")
    bad = await http.get(f"/c/{community}/me/contacts", headers={"Authorization": f"Bearer {forged}"})
    assert await error(bad) == (401, "bad_token_signature")
    malformed = await http.post(
        f"/c/{community}/auth/challenge", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert await error(malformed) == (400, "malformed_json")
    assert await error(await http.post(f"/c/{community}/auth/challenge", json={})) == (422, "invalid_request")
    huge = await http.post(f"/c/{community}/auth/challenge", content=b"x" * (300 * 1024))
    assert await error(huge) == (413, "too_large")
    someone_else = statement(member(), "identity.create_invite", community, {"invite": "x"})
    mine = await http.post(f"/c/{community}/invites", json={"statement": someone_else}, headers=auth)
    assert await error(mine) == (403, "not_your_statement")
    assert await error(await http.get(f"/c/{community}/invites/nope")) == (404, "not_found")
    assert await error(await http.get("/c/bad.name/invites/x")) == (422, "invalid_request")
