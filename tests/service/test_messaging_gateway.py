"""Messaging through the gateway on a real HTTP server: acts, gated reads, and live updates over SSE.

Identity, membership and messaging run for real on the session's nats-server (messaging on its
JetStream stream); only the community's signature on announcements comes from the did:key signer
messaging ships, until identity signs announcements itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from nats.aio.client import Client as NATS

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.governance.adapters.notices import NatsNotices
from services.governance.bootstrap import start_governance
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.membership.bootstrap import start_membership
from services.messaging.adapters.fakes import KeyedSigner
from services.messaging.adapters.mailer import Mailer
from services.messaging.bootstrap import start_messaging
from services.messaging.config import MessagingSettings
from shared.commands import CommandClient, CommandRejected
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually
from shared.trust.member_keys import MemberKeys

from .test_messaging_support import seal_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def served_gateway(
    nc: NATS,
    nats_url: str,
    tmp_path: Path,
    *,
    governance: bool = False,
    mailer: Mailer | None = None,
    settings: MessagingSettings | None = None,
) -> AsyncIterator[str]:
    """Identity, membership, messaging (and governance, if asked) behind a real HTTP gateway;
    messaging mails through `mailer` when one is given."""
    identity = await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings())
    membership = await start_membership(nc, nats_url, tmp_path / "membership")
    messaging = await start_messaging(
        nc,
        nats_url,
        tmp_path / "messaging",
        settings or MessagingSettings(),
        signer=KeyedSigner(),
        mailer=mailer,
    )
    decide = await start_governance(nc, nats_url, tmp_path / "governance") if governance else None
    port = free_port()
    app = create_app(GatewaySettings(nats_url=nats_url), [])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
    serving = asyncio.create_task(server.serve())
    try:
        assert await eventually(lambda: server.started, within=30), "the gateway did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        if decide is not None:
            await decide.stop()
        await messaging.stop()
        await membership.stop()
        await identity.stop()


@pytest.fixture
async def base_url(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[str]:
    async with served_gateway(nc, nats_url, tmp_path) as url:
        yield url


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
            self.keys,
            action=action,
            community=self.community,
            body=body,
            nonce=secrets.token_hex(16),
            now=datetime.now(tz=UTC),
        )

    async def sign_in(self) -> Person:
        base = f"/c/{self.community}/auth"
        challenge = (await self.http.post(f"{base}/challenge", json={"member": self.did})).json()
        answer = self.sign("identity.sign_in", {"challenge": challenge["challenge"]})
        tokens = (await self.http.post(f"{base}/sign-in", json={"statement": answer})).json()
        self.auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        return self

    async def act(self, act: str, body: dict[str, Any]) -> Any:
        statement = self.sign(f"messaging.{act}", body)
        url = f"/c/{self.community}/messaging/acts/{act}"
        response = await self.http.post(url, json={"statement": statement}, headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(f"/c/{self.community}/messaging{path}", params=params, headers=self.auth)


async def community_of_three(http: httpx.AsyncClient) -> tuple[Person, Person, Person]:
    community = unique_service("c")
    ada = await Person(http, community).sign_in()
    created = await http.post(
        f"/c/{community}",
        json={"name": "River Co-op", "statement": ada.sign("membership.create_community", {"name": "Ada"})},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    members = []
    for name in ("Bea", "Cy"):
        person = await Person(http, community).sign_in()
        statement = person.sign("membership.apply", {"name": name})
        assert (await http.post(f"/c/{community}/apply", json={"statement": statement})).status_code == 200
        admit = ada.sign("membership.admit", {"member": person.did})
        response = await http.post(f"/c/{community}/acts/admit", json={"statement": admit}, headers=ada.auth)
        assert response.status_code == 200, response.text
        members.append(person)
    return ada, members[0], members[1]


async def events(lines: AsyncIterator[str], count: int) -> list[tuple[str, dict[str, Any]]]:
    """The next `count` SSE events (keep-alive comments skipped)."""
    found: list[tuple[str, dict[str, Any]]] = []
    kind = ""
    async for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            found.append((kind, json.loads(line.removeprefix("data: "))))
            if len(found) == count:
                return found
    return found


async def test_a_member_follows_the_forum_live_and_sees_only_what_is_hers(base_url: str, nc: NATS) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        ada, bea, cy = await community_of_three(http)
        await ada.act("create_category", {"category": "general", "name": "General"})
        url = f"/c/{bea.community}/live"
        async with http.stream("GET", url, headers=bea.auth) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            [(ready, hello)] = await events(lines, 1)
            assert (ready, hello["member"]) == ("ready", bea.did)

            thread = await ada.act(
                "start_thread", {"category": "general", "title": "Hello", "body": "Say hi"}
            )
            direct = await ada.act("create_conversation", {"kind": "direct", "members": [cy.did]})
            await ada.act(
                "post_message",
                {"conversation": direct["conversation"], "sealed": seal_for([ada.keys, cy.keys], "psst")},
            )
            await cy.act("reply", {"thread": thread["thread"], "body": "hi!"})
            received = await asyncio.wait_for(events(lines, 2), timeout=20)
        assert [(k, e.get("thread")) for k, e in received] == [("post", thread["thread"])] * 2
        assert all(e.get("conversation") != direct["conversation"] for _, e in received)

        found = (await bea.get("/search", text="hi")).json()["results"]
        assert [r["thread"] for r in found] == [thread["thread"]] * 2  # the opening post and the reply
        assert (await bea.get(f"/threads/{thread['thread']}")).json()["posts"][1]["body"] == "hi!"
        assert (await bea.get(f"/conversations/{direct['conversation']}/messages")).status_code == 404
        secret = (await cy.get(f"/conversations/{direct['conversation']}/messages")).json()["messages"][0]
        assert "body" not in secret
        assert secret["sealed"]["box"]

        outsider = await Person(http, bea.community).sign_in()
        refused = await outsider.get("/categories")
        assert (refused.status_code, refused.json()["error"]["type"]) == (403, "not_a_member")
        assert (await http.get(url, headers=outsider.auth)).status_code == 403
        foreign = await http.get(f"/c/{unique_service('c')}/messaging/categories", headers=bea.auth)
        assert (foreign.status_code, foreign.json()["error"]["type"]) == (403, "wrong_community")
        client = CommandClient(nc, timeout=10)
        with pytest.raises(CommandRejected) as over_nats:  # the same gate on the bus, not only at HTTP
            await client.call(
                "messaging", "categories", {"community": unique_service("c"), "member": bea.did}
            )
        assert over_nats.value.type == "not_a_member"
        borrowed = await http.post(
            f"/c/{bea.community}/messaging/acts/reply",
            json={"statement": cy.sign("messaging.reply", {"thread": thread["thread"], "body": "as Cy"})},
            headers=bea.auth,
        )
        assert borrowed.json()["error"]["type"] == "not_your_statement"


async def test_governance_notices_reach_their_recipients_live_without_the_list(
    base_url: str, nc: NATS
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        ada, bea, cy = await community_of_three(http)
        notices = NatsNotices(nc)
        async with http.stream("GET", f"/c/{bea.community}/live", headers=bea.auth) as stream:
            lines = stream.aiter_lines()
            [(ready, _)] = await events(lines, 1)
            assert ready == "ready"
            # `ready` means the server holds the gateway's subscriptions (`settled`): the notices
            # below, published at once on another connection, cannot pass before them.
            # A reminder for Cy alone (who has not voted), then a poll opened for all three.
            await notices.notify(
                bea.community, {"kind": "reminder", "poll": "p1", "title": "Budget", "recipients": [cy.did]}
            )
            await notices.notify(bea.community, {"kind": "trustee_committed", "poll": "p1"})  # no recipients
            await notices.notify(
                bea.community,
                {"kind": "poll_opened", "poll": "p1", "title": "Budget",
                 "recipients": [ada.did, bea.did, cy.did]},
            )  # fmt: skip
            received = await asyncio.wait_for(events(lines, 1), timeout=20)
        assert received == [("poll_opened", {"kind": "poll_opened", "poll": "p1", "title": "Budget",
                                             "service": "governance"})]  # fmt: skip


async def test_announcements_and_refusals_travel_as_typed_http_answers(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        ada, bea, _ = await community_of_three(http)
        sent = await ada.act("compose_announcement", {"title": "AGM", "body": "Thursday, <b>7pm</b>"})
        inbox = (await bea.get("/inbox")).json()
        assert (inbox["unread"], inbox["announcements"][0]["title"]) == (1, "AGM")
        shown = (await bea.get(f"/inbox/{sent['announcement']}")).json()
        assert shown["html"] == "<p>Thursday, &lt;b&gt;7pm&lt;/b&gt;</p>\n"
        assert shown["document"]["proof"]["cryptosuite"] == "eddsa-jcs-2022"
        stats = (await ada.get(f"/announcements/{sent['announcement']}/stats")).json()
        assert stats["recipients"] == 3

        statement = bea.sign("messaging.compose_announcement", {"title": "Mine", "body": "x"})
        refused = await http.post(
            f"/c/{bea.community}/messaging/acts/compose_announcement",
            json={"statement": statement},
            headers=bea.auth,
        )
        assert (refused.status_code, refused.json()["error"]["type"]) == (403, "not_an_admin")
        too_big = bea.sign("messaging.start_thread", {"category": "none", "title": "t", "body": "b"})
        missing = await http.post(
            f"/c/{bea.community}/messaging/acts/start_thread", json={"statement": too_big}, headers=bea.auth
        )
        assert (missing.status_code, missing.json()["error"]["type"]) == (404, "unknown_category")
        bad_link = await http.get(
            f"/c/{bea.community}/messaging/email/verify", params={"member": bea.did, "token": "x" * 20}
        )
        assert (bad_link.status_code, bad_link.json()["error"]["type"]) == (403, "invalid_verification")
        # Opened from her mail, in a browser: a page that says what happened, escaped.
        in_browser = await http.get(
            f"/c/{bea.community}/messaging/email/verify",
            params={"member": bea.did, "token": "x" * 20},
            headers={"accept": "text/html,application/xhtml+xml"},
        )
        assert in_browser.status_code == 403
        assert in_browser.headers["content-type"].startswith("text/html")
        assert "<h1>This link did not work</h1>" in in_browser.text
        assert "Nothing was changed." in in_browser.text
