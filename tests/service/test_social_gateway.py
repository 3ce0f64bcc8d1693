"""PLANET social through the gateway, over real identity, membership and social services on JetStream."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from nats.aio.client import Client as NATS

from cos.cli import main as cos
from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.membership.bootstrap import start_membership
from services.social.bootstrap import start_social
from services.social.client.signing import introduction_chat_request, signed_post, signed_relationship
from services.social.domain.commands import PostsQuery
from shared.envelope import EventRecord
from shared.jetstream import EventStore, StreamSettings
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.subjects import StreamSubjects
from shared.testkit.plugin import unique_service
from shared.trust.member_keys import MemberKeys


@pytest.fixture
async def http(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    identity = await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings())
    membership = await start_membership(nc, nats_url, tmp_path / "membership")
    # Announcements written by this test go to a stream of their own, never to the shared MESSAGING
    social = await start_social(nc, nats_url, tmp_path / "social", messaging=MESSAGING)
    app = create_app(GatewaySettings(nats_url=nats_url), [])
    app.state.nats = nc
    app.state.social = social
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client
    finally:
        await social.stop()
        await membership.stop()
        await identity.stop()


MESSAGING = StreamSubjects.for_service(unique_service("messaging"))


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
        statement = self.sign(f"social.{act}", body)
        return await self.http.post(
            f"/c/{self.community}/social/{act}", json={"statement": statement}, headers=self.auth
        )

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(f"/c/{self.community}{path}", headers=self.auth)


async def community_of(http: httpx.AsyncClient, *names: str) -> list[Person]:
    """A new community: the first person founds it, the others apply and are admitted."""
    community = unique_service("c")
    founder = await Person(http, community).sign_in()
    created = await http.post(
        f"/c/{community}",
        json={
            "name": "Seed Co-op",
            "statement": founder.sign("membership.create_community", {"name": names[0]}),
        },
        headers=founder.auth,
    )
    assert created.status_code == 201, created.text
    people = [founder]
    for name in names[1:]:
        person = await Person(http, community).sign_in()
        applied = await http.post(
            f"/c/{community}/apply", json={"statement": person.sign("membership.apply", {"name": name})}
        )
        assert applied.status_code == 200, applied.text
        admit = founder.sign("membership.admit", {"member": person.did})
        admitted = await http.post(
            f"/c/{community}/acts/admit", json={"statement": admit}, headers=founder.auth
        )
        assert admitted.status_code == 200, admitted.text
        people.append(person)
    return people


async def announce(nc: NATS, community: str, title: str, audience: dict[str, list[str]]) -> None:
    """An announcement exactly as the shared content-event contract writes it (on this test's stream)."""
    store = await EventStore(nc, StreamSettings(MESSAGING), SigningKey.generate()).start()
    ident = uuid.uuid4().hex[:12]
    originator = f"{community}.announcement.{ident}"
    state: dict[str, Any] = {
        "type": "messaging.announcement_sent.v1",
        "originator_id": originator,
        "originator_version": 1,
        "occurred_ns": 1,
        "announcement": ident,
        "title": title,
        "body": "**Bring** a friend.",
        "audience": audience,
        "by": "did:key:z6Mkboard",
    }
    record = EventRecord("messaging.announcement_sent.v1", 1, msgspec.msgpack.encode(state))
    commit = store.new_commit(
        community=community, aggregate="announcement", ident=ident,
        originator_id=originator, events=[record],
    )  # fmt: skip
    await store.append([commit])
    await store.close()


async def test_a_post_is_published_read_publicly_verified_followed_and_commented(
    http: httpx.AsyncClient, nc: NATS, tmp_path: Path
) -> None:
    ada, bea = await community_of(http, "Ada", "Bea")
    community = ada.community
    document = signed_post(
        ada.keys,
        community,
        "soil-1",
        headline="Living soil",
        body="# Soil\nis alive.",
        hashtags=["regenerative"],
    )
    published = await ada.act("publish_post", {"post": "soil-1", "document": document})
    assert published.status_code == 200, published.text

    public = await http.get(f"/c/{community}/blog", params={"hashtag": "regenerative"})
    assert [p["post"] for p in public.json()["posts"]] == ["soil-1"]
    exported = await http.get(f"/c/{community}/blog/soil-1/document")
    path = tmp_path / "post.json"
    path.write_text(exported.text)
    assert await asyncio.to_thread(cos, ["vc", "verify", str(path)]) == 0
    assert await asyncio.to_thread(cos, ["blog", "verify", str(path)]) == 0
    forged = json.loads(exported.text)
    forged["credentialSubject"]["articleBody"] = "Soil is dead."
    path.write_text(json.dumps(forged))
    assert await asyncio.to_thread(cos, ["vc", "verify", str(path)]) == 1

    assert (await bea.act("follow", {"author": ada.did, "hashtags": ["regenerative"]})).status_code == 200
    comment = (await bea.act("comment", {"post": "soil-1", "text": "Lovely."})).json()
    reply = await ada.act("comment", {"post": "soil-1", "text": "Thanks!", "reply_to": comment["comment"]})
    assert reply.json()["by_author"] is True
    thread = (await bea.get("/blog/soil-1/comments")).json()["comments"]
    assert [c["text"] for c in thread] == ["Lovely.", "Thanks!"]
    assert (await http.get(f"/c/{community}/blog/soil-1/comments")).status_code == 401

    await announce(nc, community, "Harvest fair", {"roles": [], "types": [], "tags": []})
    await announce(nc, community, "Admins only", {"roles": ["admin"], "types": [], "tags": []})
    feed = (await bea.get("/me/feed")).json()
    assert {(i["kind"], i["title"]) for i in feed["items"]} == {
        ("post", "Living soil"),
        ("announcement", "Harvest fair"),
    }
    assert "Admins only" in {i["title"] for i in (await ada.get("/me/feed")).json()["items"]}
    assert (await ada.get(f"/feeds/{bea.did}")).json()["error"]["type"] == "feed_not_shared"
    shared = await bea.act("configure_feed", {"definition": {"name": "Regen"}, "share": True})
    assert shared.json()["shared"] is True, shared.text
    adopted = (await ada.get(f"/feeds/{bea.did}")).json()["definition"]
    assert adopted["follows"] == [{"author": ada.did, "hashtags": ["regenerative"]}]

    outsider = await Person(http, community).sign_in()
    refused = await outsider.act("comment", {"post": "soil-1", "text": "let me in"})
    assert (refused.status_code, refused.json()["error"]["type"]) == (403, "not_a_member")
    assert (await outsider.get("/me/feed")).json()["error"]["type"] == "not_a_member"
    borrowed = await http.post(
        f"/c/{community}/social/comment",
        json={"statement": bea.sign("social.comment", {"post": "soil-1", "text": "as Bea"})},
        headers=ada.auth,
    )
    assert borrowed.json()["error"]["type"] == "not_your_statement"


async def test_tenants_are_isolated_and_read_models_survive_a_restart(
    http: httpx.AsyncClient, nc: NATS, nats_url: str, tmp_path: Path
) -> None:
    (ada,) = await community_of(http, "Ada")
    (zed,) = await community_of(http, "Zed")
    document = signed_post(ada.keys, ada.community, "p1", headline="Ours", body="x")
    assert (await ada.act("publish_post", {"post": "p1", "document": document})).status_code == 200
    assert (await http.get(f"/c/{zed.community}/blog")).json()["posts"] == []
    assert (await http.get(f"/c/{zed.community}/blog/p1")).json()["error"]["type"] == "unknown_post"
    crossing = await http.get(f"/c/{zed.community}/me/feed", headers=ada.auth)
    assert (crossing.status_code, crossing.json()["error"]["type"]) == (403, "wrong_community")

    # A second instance rebuilds its read models from the SOCIAL stream alone.
    again = await start_social(nc, nats_url, tmp_path / "social-2", messaging=MESSAGING)
    try:
        rebuilt = await again.handlers.list_posts(PostsQuery(ada.community))
        assert [p["post"] for p in rebuilt["posts"]] == ["p1"]
    finally:
        await again.stop()


async def test_an_introduction_through_the_gateway_connects_two_members(http: httpx.AsyncClient) -> None:
    ada, bea, cal = await community_of(http, "Ada", "Bea", "Cal")
    intro = uuid.uuid4().hex[:12]
    proposed = await ada.act(
        "propose_introduction", {"introduction": intro, "first": bea.did, "second": cal.did}
    )
    assert proposed.json()["status"] == "proposed", proposed.text
    pending = (await bea.get("/me/network")).json()
    assert [(c["did"], c["status"]) for c in pending["contacts"]] == [(cal.did, "pending")]

    for me, other in ((bea, cal), (cal, bea)):
        body: dict[str, Any] = {
            "introduction": intro,
            "consent": True,
            "relationship": signed_relationship(me.keys, other.did),
            "chat": introduction_chat_request(me.keys, me.community, intro, [ada.did, bea.did, cal.did]),
        }
        answered = await me.act("answer_introduction", body)
        assert answered.status_code == 200, answered.text
    connected = answered.json()
    # No messaging service answers in this test: the chat is recorded as pending, the intro connects.
    assert (connected["status"], connected["chat_status"]) == ("connected", "pending")
    network = (await bea.get("/me/network")).json()
    assert [(c["did"], c["status"]) for c in network["contacts"]] == [(cal.did, "connected")]
    assert network["hops"] == {"1": [cal.did]}
    assert (await ada.act("leave_introduction", {"introduction": intro})).json()["introducer_left"] is True
    assert (await cal.act("rate_introduction", {"introduction": intro, "value": 5})).status_code == 200
    made = (await ada.get("/me/network")).json()["introductions_made"]
    assert (made[0]["value"], made[0]["introducer_left"]) == (5.0, True)
    assert (await bea.get(f"/introductions/{intro}")).json()["ratings"] == {cal.did: 5}
