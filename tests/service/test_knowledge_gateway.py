"""Know through the gateway over real identity, membership and knowledge services: members ask
and add documents over HTTP; outsiders and other communities' sessions are turned away."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client as NATS

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.knowledge.bootstrap import start_knowledge
from services.knowledge.config import KnowledgeSettings
from services.membership.bootstrap import start_membership
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually_async

from .test_gateway_membership import Person
from .test_knowledge_support import embedder

MINUTES = b"# Assembly minutes\n\nThe assembly chose Lena as treasurer for the next two years.\n"


@pytest.fixture
def community() -> str:
    return unique_service("k")


@pytest.fixture
async def http(nc: NATS, nats_url: str, tmp_path: Path, community: str) -> AsyncIterator[httpx.AsyncClient]:
    identity = await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings())
    membership = await start_membership(nc, nats_url, tmp_path / "membership")
    settings = replace(KnowledgeSettings(), communities=(community,))  # this test's community only
    knowledge = await start_knowledge(nc, nats_url, tmp_path / "knowledge", settings, embedder=embedder())
    app = create_app(GatewaySettings(nats_url=nats_url), [])
    app.state.nats = nc
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client
    finally:
        await knowledge.stop()
        await membership.stop()
        await identity.stop()


async def founded(http: httpx.AsyncClient, community: str) -> Person:
    ada = await Person(http, community).sign_in()
    created = await http.post(
        f"/c/{community}",
        json={"name": "Assembly", "statement": ada.sign("membership.create_community", {"name": "Ada"})},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    return ada


async def test_members_add_documents_and_ask_through_the_gateway(
    http: httpx.AsyncClient, community: str
) -> None:
    ada = await founded(http, community)
    body = {
        "title": "Assembly minutes",
        "filename": "minutes.md",
        "sha256": hashlib.sha256(MINUTES).hexdigest(),
    }
    added = await http.post(
        f"/c/{community}/know/documents",
        json={
            "statement": ada.sign("knowledge.add_document", body),
            "content": base64.b64encode(MINUTES).decode(),
        },
        headers=ada.auth,
    )
    assert added.status_code == 201, added.text
    assert added.json()["document"]
    # Searchable at once, normally; on a loaded machine past the upload's wait (then `false`): either
    # way it is in the library, and so answered from, once indexed.

    async def listed() -> bool:
        documents = (await ada.get("/know/documents")).json()["documents"]
        return [d["title"] for d in documents] == ["Assembly minutes"]

    assert await eventually_async(listed, within=60)

    bea = await Person(http, community).sign_in()
    await http.post(
        f"/c/{community}/apply", json={"statement": bea.sign("membership.apply", {"name": "Bea"})}
    )
    await ada.act("admit", {"member": bea.did})
    asked = await http.post(
        f"/c/{community}/know/ask", json={"question": "Who is the treasurer?"}, headers=bea.auth
    )
    assert asked.status_code == 200, asked.text
    first = asked.json()["passages"][0]
    assert "Lena" in first["quote"]
    assert (first["source"]["title"], first["source"]["author"]) == ("Assembly minutes", ada.did)
    searched = await bea.get("/know/search?q=treasurer&method=bm25")
    assert searched.json()["passages"][0]["source"]["kind"] == "document"
    assert [d["title"] for d in (await bea.get("/know/documents")).json()["documents"]] == [
        "Assembly minutes"
    ]

    # Bea may not add documents (admins only by default), nor act with Ada's statement.
    refused = await http.post(
        f"/c/{community}/know/documents",
        json={
            "statement": bea.sign("knowledge.add_document", body),
            "content": base64.b64encode(MINUTES).decode(),
        },
        headers=bea.auth,
    )
    assert (refused.status_code, refused.json()["error"]["type"]) == (403, "may_not_upload")
    borrowed = await http.post(
        f"/c/{community}/know/documents",
        json={"statement": ada.sign("knowledge.add_document", body), "content": ""},
        headers=bea.auth,
    )
    assert borrowed.json()["error"]["type"] == "not_your_statement"

    # An applicant who was never admitted, and a session of another community, are turned away.
    outsider = await Person(http, community).sign_in()
    stranger = await outsider.http.post(
        f"/c/{community}/know/ask", json={"question": "Who is the treasurer?"}, headers=outsider.auth
    )
    assert (stranger.status_code, stranger.json()["error"]["type"]) == (403, "not_a_member")
    elsewhere = unique_service("k")
    other_admin = await founded(http, elsewhere)
    crossed = await http.post(
        f"/c/{community}/know/ask", json={"question": "Who is the treasurer?"}, headers=other_admin.auth
    )
    assert (crossed.status_code, crossed.json()["error"]["type"]) == (403, "wrong_community")
    unsigned = await http.post(f"/c/{community}/know/ask", json={"question": "treasurer?"})
    assert unsigned.status_code == 401
