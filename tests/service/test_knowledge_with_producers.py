"""Know over the real producers: identity, membership, messaging and governance running on the
session's nats-server write the content events; knowledge indexes them through the shared contract
and answers members through the gateway, following categories, audiences and moderation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.governance.bootstrap import start_governance
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.knowledge.bootstrap import start_knowledge
from services.knowledge.config import KnowledgeSettings
from services.membership.bootstrap import start_membership
from services.messaging.adapters.fakes import KeyedSigner
from services.messaging.bootstrap import start_messaging
from services.messaging.config import MessagingSettings
from shared.commands import CommandClient
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually_async
from shared.trust.datetimes import format_datetime

from .test_gateway_membership import Person
from .test_knowledge_support import embedder


@pytest.fixture
def community() -> str:
    return unique_service("k")


@pytest.fixture
async def http(nc: NATS, nats_url: str, tmp_path: Path, community: str) -> AsyncIterator[httpx.AsyncClient]:
    identity = await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings())
    membership = await start_membership(nc, nats_url, tmp_path / "membership")
    messaging = await start_messaging(
        nc, nats_url, tmp_path / "messaging", MessagingSettings(), signer=KeyedSigner()
    )
    governance = await start_governance(nc, nats_url, tmp_path / "governance")
    settings = KnowledgeSettings(communities=(community,))
    knowledge = await start_knowledge(nc, nats_url, tmp_path / "knowledge", settings, embedder=embedder())
    app = create_app(GatewaySettings(nats_url=nats_url), [])
    app.state.nats = nc
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client
    finally:
        await knowledge.stop()
        await governance.stop()
        await messaging.stop()
        await membership.stop()
        await identity.stop()


async def act(person: Person, act: str, body: dict[str, Any]) -> Any:
    statement = person.sign(f"messaging.{act}", body)
    url = f"/c/{person.community}/messaging/acts/{act}"
    response = await person.http.post(url, json={"statement": statement}, headers=person.auth)
    assert response.status_code == 200, response.text
    return response.json()


async def joined(http: httpx.AsyncClient, community: str, admin: Person, name: str) -> Person:
    person = await Person(http, community).sign_in()
    await http.post(
        f"/c/{community}/apply", json={"statement": person.sign("membership.apply", {"name": name})}
    )
    assert (await admin.act("admit", {"member": person.did})).status_code == 200
    return person


def searcher(person: Person, question: str) -> Any:
    async def keys() -> list[str]:
        response = await person.http.get(
            f"/c/{person.community}/know/search", params={"q": question, "limit": 10}, headers=person.auth
        )
        assert response.status_code == 200, response.text
        return [p["source"]["kind"] + ":" + p["source"]["title"] for p in response.json()["passages"]]

    return keys


async def test_forum_posts_and_announcements_from_messaging_are_answerable_within_their_rules(
    http: httpx.AsyncClient, community: str
) -> None:
    ada = await Person(http, community).sign_in()
    created = await http.post(
        f"/c/{community}",
        json={"name": "River Co-op", "statement": ada.sign("membership.create_community", {"name": "Ada"})},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    bea = await joined(http, community, ada, "Bea")

    await act(ada, "create_category", {"category": "market", "name": "Market"})
    await act(ada, "create_category", {"category": "mods", "name": "Moderators", "read_roles": ["admin"]})
    canoe = await act(bea, "start_thread", {"category": "market", "title": "Canoe for sale",
                                            "body": "Green canoe with paddles, 200 euros."})  # fmt: skip
    await act(ada, "start_thread", {"category": "mods", "title": "Key safe",
                                    "body": "The key safe code for the canoe shed is 4711."})  # fmt: skip
    await act(ada, "compose_announcement", {"title": "Regatta", "body": "The canoe regatta is on 3 May."})

    everything = ["post:Canoe for sale", "post:Key safe", "announcement:Regatta"]
    admin_view = await eventually_async(lambda: _all_of(searcher(ada, "canoe"), everything), within=60)
    assert sorted(admin_view) == sorted(everything)
    member_view = await searcher(bea, "canoe")()
    assert sorted(member_view) == ["announcement:Regatta", "post:Canoe for sale"]

    post = canoe["post"]
    await act(ada, "moderate", {"target": post, "kind": "post", "action": "hide", "reason": "sold"})
    hidden = await eventually_async(
        lambda: _without(searcher(bea, "canoe"), "post:Canoe for sale"), within=60
    )
    assert hidden == ["announcement:Regatta"]


async def test_a_poll_and_its_stated_outcome_from_governance_are_answerable(
    http: httpx.AsyncClient, community: str, nc: NATS
) -> None:
    ada = await Person(http, community).sign_in()
    created = await http.post(
        f"/c/{community}",
        json={"name": "River Co-op", "statement": ada.sign("membership.create_community", {"name": "Ada"})},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    bea = await joined(http, community, ada, "Bea")
    client = CommandClient(nc)

    async def govern(command: str, body: dict[str, Any]) -> Any:
        statement = ada.sign(f"governance.{command}", body)
        return await client.call("governance", command, {"community": community, "statement": statement})

    closes = format_datetime(datetime.now(tz=UTC) + timedelta(days=7))
    spec = {
        "kind": "proposal",
        "title": "Paint the boathouse green",
        "description": "Green paint for the boathouse.",
    }
    poll = (await govern("create_poll", {"spec": spec, "closes_at": closes}))["poll"]
    await govern("close_poll", {"poll": poll})
    await govern("state_outcome", {"poll": poll, "text": "The boathouse will be painted green in May."})

    found = await eventually_async(
        lambda: _all_of(searcher(bea, "boathouse paint"), ["outcome:Paint the boathouse green"]), within=60
    )
    assert "poll:Paint the boathouse green" in found
    answer = await http.post(
        f"/c/{community}/know/ask", json={"question": "When will the boathouse be painted?"}, headers=bea.auth
    )
    assert answer.status_code == 200, answer.text
    (outcome,) = [p for p in answer.json()["passages"] if p["source"]["kind"] == "outcome"]
    assert "painted green in May" in outcome["quote"]
    assert (outcome["source"]["citation"]["stream"], outcome["source"]["author"]) == ("GOVERNANCE", ada.did)


async def _all_of(search: Any, wanted: list[str]) -> list[str] | None:
    found: list[str] = await search()
    return found if set(wanted) <= set(found) else None


async def _without(search: Any, unwanted: str) -> list[str] | None:
    found: list[str] = await search()
    return None if unwanted in found else found
