"""The public archive of announcements: admins publish announcements to every member (at compose
or later) and withdraw them; anyone reads them, without an account, as JSON, a page or an Atom
feed, each with the document the community signed, which verifies.

Membership (and, through the gateway, identity) run for real on the session's nats-server; the
community's signature comes from the did:key signer messaging ships.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS

from services.messaging.domain.announcement import announcement_id
from services.messaging.domain.commands import ArchiveQuery
from services.messaging.domain.events import AnnouncementPublicSet
from shared.domain import DomainError
from shared.trust.credentials import verify_credential
from shared.trust.errors import TrustError
from shared.trust.resolver import default_resolver

from .test_messaging_gateway import community_of_three, served_gateway
from .test_messaging_support import World, running_world

A = "{http://www.w3.org/2005/Atom}"
TRICKY = "Fish & chips <b>night</b> \"quoted\" and 'single' </title>]]>"


@pytest.fixture
async def world(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(nc, nats_url, tmp_path) as started:
        yield started


async def archive(world: World, community: str | None = None, **fields: Any) -> dict[str, Any]:
    query = ArchiveQuery(community=community or world.community, **fields)
    result: dict[str, Any] = await world.handlers.archive(query)
    return result


async def archived(world: World, ident: str) -> dict[str, Any]:
    found: dict[str, Any] = await world.handlers.archived(
        ArchiveQuery(community=world.community, announcement=ident)
    )
    return found


async def titles(world: World, community: str | None = None) -> list[str]:
    return [a["title"] for a in (await archive(world, community, limit=100))["announcements"]]


async def compose(world: World, title: str, **body: Any) -> dict[str, Any]:
    sent: dict[str, Any] = await world.act(
        world.admin, "compose_announcement", {"title": title, "body": f"About {title}."} | body
    )
    return sent


def verified_issuer(document: dict[str, Any]) -> str:
    """The project's own check of a credential (what `cos vc verify` runs): its issuer."""
    return verify_credential(document, default_resolver(), now=datetime.now(tz=UTC)).issuer


async def test_published_at_compose_anyone_reads_it_with_a_document_that_verifies(world: World) -> None:
    await world.admit("Bea")
    sent = await compose(world, "Open day", body="Saturday **10am**, all welcome.", public=True)
    assert (sent["state"], sent["public"], sent["recipients"]) == ("sent", True, 2)
    await compose(world, "Members only: the accounts")  # not public

    listed = await archive(world)
    did = world.signer.keys[world.community].did
    assert listed["community"] == {"id": world.community, "name": "River Co-op", "did": did}
    [entry] = listed["announcements"]
    assert (entry["id"], entry["title"]) == (sent["announcement"], "Open day")
    assert entry["body_html"] == "<p>Saturday <strong>10am</strong>, all welcome.</p>\n"
    assert datetime.fromisoformat(entry["sent_at"]) <= datetime.now(tz=UTC)
    assert listed["next"] is None
    assert verified_issuer(entry["document"]) == did
    assert entry["document"]["credentialSubject"]["body"] == "Saturday **10am**, all welcome."
    forged = entry["document"] | {
        "credentialSubject": entry["document"]["credentialSubject"] | {"body": "Sunday instead"}
    }
    with pytest.raises(TrustError):
        verified_issuer(forged)
    assert (await archived(world, sent["announcement"])) == entry | {"community": listed["community"]}
    # Members see it is public; the admin's outbox too.
    sent_rows = (await world.query(world.admin, "announcements"))["sent"]
    assert {r["title"]: r["public"] for r in sent_rows} == {
        "Open day": True,
        "Members only: the accounts": False,
    }


async def test_an_announcement_for_a_segment_is_never_public_and_nothing_is_recorded(world: World) -> None:
    await world.admit("Bea", roles=["moderator"])
    for audience in ({"roles": ["moderator"]}, {"types": ["supporter"]}, {"tags": ["river"]}):
        with pytest.raises(DomainError) as refused:
            await compose(world, "Board papers", audience=audience, public=True, announcement="board1")
        assert (refused.value.code, refused.value.status) == ("public_needs_everyone", 422)
    history = world.handlers.app.history(announcement_id(world.community, "board1"))
    assert history == []
    listed = await world.query(world.admin, "announcements")
    assert (listed["sent"], listed["pending"]) == ([], [])

    board = await compose(world, "Board papers", audience={"roles": ["moderator"]})
    with pytest.raises(DomainError) as later:
        await world.act(
            world.admin, "set_announcement_public", {"announcement": board["announcement"], "public": True}
        )
    assert later.value.code == "public_needs_everyone"
    assert await titles(world) == []
    with pytest.raises(DomainError) as hidden:  # exists, but member-only: the same 404 as none at all
        await archived(world, board["announcement"])
    assert (hidden.value.code, hidden.value.status) == ("unknown_announcement", 404)
    with pytest.raises(DomainError) as unknown:
        await archived(world, "no-such-thing")
    assert (unknown.value.code, unknown.value.status) == ("unknown_announcement", 404)


async def test_published_later_withdrawn_at_once_and_the_log_keeps_both(world: World) -> None:
    bea = await world.admit("Bea")
    sent = await compose(world, "Harvest supper")
    ident = sent["announcement"]
    assert await titles(world) == []

    published = await world.act(
        world.admin, "set_announcement_public", {"announcement": ident, "public": True}
    )
    assert (published["public"], published["changed"]) == (True, True)
    assert await titles(world) == ["Harvest supper"]
    again = await world.act(world.admin, "set_announcement_public", {"announcement": ident, "public": True})
    assert again["changed"] is False  # already public: nothing recorded
    with pytest.raises(DomainError) as member:
        await world.act(bea, "set_announcement_public", {"announcement": ident, "public": False})
    assert (member.value.code, member.value.status) == ("not_an_admin", 403)
    assert (await world.query(bea, "announcement", announcement=ident))["public"] is True

    withdrawn = await world.act(
        world.admin, "set_announcement_public", {"announcement": ident, "public": False}
    )
    assert (withdrawn["public"], withdrawn["changed"]) == (False, True)
    assert await titles(world) == []  # the very next read
    with pytest.raises(DomainError) as gone:
        await archived(world, ident)
    assert gone.value.code == "unknown_announcement"
    assert (await archive(world))["updated"] is not None  # the archive changed when it left

    changes = [
        e
        for e in world.handlers.app.history(announcement_id(world.community, ident))
        if isinstance(e, AnnouncementPublicSet)
    ]
    assert [(e.public, e.by) for e in changes] == [(True, world.admin.did), (False, world.admin.did)]
    assert all(e.statement and e.statement["actor"] == world.admin.did for e in changes)
    # Its members still have it, as before.
    assert [a["title"] for a in (await world.query(bea, "inbox_of"))["announcements"]] == ["Harvest supper"]


async def test_a_draft_shows_once_sent_and_a_cancelled_one_never(world: World) -> None:
    draft = await compose(world, "Draft: new opening hours", draft=True, public=True)
    assert (draft["state"], draft["public"]) == ("draft", True)
    tomorrow = (datetime.now(tz=UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    scheduled = await compose(world, "Scheduled: closed Monday", send_at=tomorrow, public=True)
    assert scheduled["state"] == "scheduled"
    pending = (await world.query(world.admin, "announcements"))["pending"]
    assert {p["title"]: p["public"] for p in pending} == {
        "Draft: new opening hours": True,
        "Scheduled: closed Monday": True,
    }
    assert await titles(world) == []
    with pytest.raises(DomainError) as not_yet:
        await archived(world, draft["announcement"])
    assert not_yet.value.code == "unknown_announcement"

    await world.act(world.admin, "send_announcement", {"announcement": draft["announcement"]})
    assert await titles(world) == ["Draft: new opening hours"]

    await world.act(world.admin, "cancel_announcement", {"announcement": scheduled["announcement"]})
    assert await titles(world) == ["Draft: new opening hours"]
    with pytest.raises(DomainError) as cancelled:
        await world.act(
            world.admin,
            "set_announcement_public",
            {"announcement": scheduled["announcement"], "public": True},
        )
    assert cancelled.value.code == "announcement_cancelled"
    assert await titles(world) == ["Draft: new opening hours"]


async def test_pages_newest_first_and_communities_never_see_each_other(world: World) -> None:
    for n in range(5):
        await compose(world, f"Notice {n}", public=True)
    first = await archive(world, limit=2)
    assert [a["title"] for a in first["announcements"]] == ["Notice 4", "Notice 3"]
    second = await archive(world, limit=2, before=first["next"])
    assert [a["title"] for a in second["announcements"]] == ["Notice 2", "Notice 1"]
    third = await archive(world, limit=2, before=second["next"])
    assert ([a["title"] for a in third["announcements"]], third["next"]) == (["Notice 0"], None)
    assert len((await archive(world))["announcements"]) == 5  # 20 by default
    for bad in ({"limit": 0}, {"limit": 101}, {"before": "yesterday"}):
        with pytest.raises(DomainError) as refused:
            await archive(world, **bad)
        assert (refused.value.code, refused.value.status) == ("invalid_request", 422)

    other = await World(world.membership, world.messaging, world.signer, world.notices).found()
    assert await titles(world, other.community) == []
    await other.act(other.admin, "compose_announcement", {"title": "Theirs", "body": "x", "public": True})
    assert await titles(world, other.community) == ["Theirs"]
    assert "Theirs" not in await titles(world)
    [theirs] = (await archive(world, other.community))["announcements"]
    with pytest.raises(DomainError) as elsewhere:
        await archived(world, theirs["id"])
    assert elsewhere.value.code == "unknown_announcement"
    assert verified_issuer(theirs["document"]) == world.signer.keys[other.community].did
    assert world.signer.keys[other.community].did != world.signer.keys[world.community].did

    with pytest.raises(DomainError) as unknown:
        await archive(world, "nosuchcommunity")
    assert (unknown.value.code, unknown.value.status) == ("unknown_community", 404)


# -- through the gateway, on a real HTTP server, without an account -----------------------------


@pytest.fixture
async def base_url(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[str]:
    async with served_gateway(nc, nats_url, tmp_path) as url:
        yield url


def feed_entries(xml: bytes) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.fromstring(xml)
    assert root.tag == f"{A}feed"
    return root, root.findall(f"{A}entry")


def links(element: ET.Element) -> dict[str, ET.Element]:
    return {link.get("rel", "alternate"): link for link in element.findall(f"{A}link")}


async def test_anyone_reads_the_archive_as_json_a_page_and_an_atom_feed(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        ada, bea, _ = await community_of_three(http)
        c = ada.community
        body = "Bring a *plate* & a friend: <script>alert(1)</script> [menu](https://example.org/menu)"
        tricky = await ada.act("compose_announcement", {"title": TRICKY, "body": body, "public": True})
        plain = await ada.act("compose_announcement", {"title": "Second", "body": "Later.", "public": True})
        await ada.act("compose_announcement", {"title": "Members only", "body": "Accounts."})
        board = await ada.act(
            "compose_announcement", {"title": "Board", "body": "x", "audience": {"roles": ["admin"]}}
        )
        anonymous = httpx.AsyncClient(base_url=base_url, timeout=30)  # no token, no cookie
        async with anonymous:
            # JSON for programs.
            listed = await anonymous.get(f"/c/{c}/announcements/archive")
            assert listed.status_code == 200, listed.text
            assert listed.headers["content-type"].startswith("application/json")
            assert listed.headers["cache-control"] == "public, no-cache"
            data = listed.json()
            assert (data["community"]["id"], data["community"]["name"]) == (c, "River Co-op")
            assert [a["title"] for a in data["announcements"]] == ["Second", TRICKY]
            entry = data["announcements"][1]
            assert set(entry) == {"id", "title", "body_html", "sent_at", "url", "document"}
            assert entry["url"] == f"{base_url}/c/{c}/announcements/archive/{tricky['announcement']}"
            assert "<script>" not in entry["body_html"]
            assert "<em>plate</em>" in entry["body_html"]
            assert verified_issuer(entry["document"]) == data["community"]["did"]
            assert entry["document"]["credentialSubject"]["title"] == TRICKY

            one = await anonymous.get(entry["url"])
            assert one.status_code == 200
            assert {k: v for k, v in one.json().items() if k != "community"} == entry
            document = await anonymous.get(f"{entry['url']}/document")
            assert document.json() == entry["document"]

            # Unchanged: 304, nothing sent again.
            etag = listed.headers["etag"]
            again = await anonymous.get(f"/c/{c}/announcements/archive", headers={"if-none-match": etag})
            assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)

            # A page for people, linking the feed.
            page = await anonymous.get(f"/c/{c}/announcements/archive", headers={"accept": "text/html"})
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert "Accept" in page.headers["vary"]
            html = page.text
            feed_url = f"{base_url}/c/{c}/announcements/archive.atom"
            alternate = 'rel="alternate" type="application/atom+xml" title="Announcements of River Co-op"'
            assert f'<link {alternate} href="{feed_url}">' in html
            assert "<h1>Announcements of River Co-op</h1>" in html
            assert "Second" in html
            assert "Fish &amp; chips &lt;b&gt;night&lt;/b&gt; &quot;quoted&quot;" in html
            assert "<script>" not in html
            assert "Members only" not in html

            # The Atom feed, parsed as XML: the tricky title comes back exactly.
            feed = await anonymous.get(feed_url)
            assert feed.status_code == 200
            assert feed.headers["content-type"].startswith("application/atom+xml")
            root, entries = feed_entries(feed.content)
            assert root.findtext(f"{A}title") == "River Co-op: announcements"
            assert root.findtext(f"{A}id") == f"urn:cos:{c}:announcements"
            assert root.findtext(f"{A}updated")
            assert links(root)["self"].get("href") == feed_url
            assert links(root)["alternate"].get("href") == f"{base_url}/c/{c}/announcements/archive"
            assert [e.findtext(f"{A}title") for e in entries] == ["Second", TRICKY]
            atom = entries[1]
            assert atom.findtext(f"{A}id") == f"urn:cos:{c}:announcement:{tricky['announcement']}"
            assert atom.findtext(f"{A}id") == entry["document"]["credentialSubject"]["id"]
            assert atom.findtext(f"{A}published") == atom.findtext(f"{A}updated") == entry["sent_at"]
            content = atom.find(f"{A}content")
            assert content is not None
            assert content.get("type") == "html"
            assert content.text == entry["body_html"]
            assert links(atom)["alternate"].get("href") == entry["url"]
            related = (await anonymous.get(links(atom)["related"].get("href", ""))).json()
            assert verified_issuer(related) == data["community"]["did"]
            assert b"&lt;b&gt;night&lt;/b&gt;" in feed.content  # escaped, never raw markup
            cached = await anonymous.get(feed_url, headers={"if-none-match": feed.headers["etag"]})
            assert cached.status_code == 304

            # Member-only, unknown, another community's: the same typed 404.
            for ident in (board["announcement"], "nope"):
                hidden = await anonymous.get(f"/c/{c}/announcements/archive/{ident}")
                assert (hidden.status_code, hidden.json()["error"]["type"]) == (404, "unknown_announcement")
            person = await anonymous.get(
                f"/c/{c}/announcements/archive/{board['announcement']}", headers={"accept": "text/html"}
            )
            assert person.status_code == 404
            assert "no such announcement" in person.text
            for path in ("archive", "archive.atom", "archive/x"):
                unknown = await anonymous.get(f"/c/nosuchcommunity/announcements/{path}")
                assert (unknown.status_code, unknown.json()["error"]["type"]) == (404, "unknown_community")
            paged = await anonymous.get(f"/c/{c}/announcements/archive", params={"limit": 1})
            assert [a["title"] for a in paged.json()["announcements"]] == ["Second"]
            rest = await anonymous.get(
                f"/c/{c}/announcements/archive", params={"limit": 1, "before": paged.json()["next"]}
            )
            assert [a["title"] for a in rest.json()["announcements"]] == [TRICKY]
            too_many = await anonymous.get(f"/c/{c}/announcements/archive", params={"limit": 101})
            assert too_many.status_code == 422

            # Withdrawn: gone from everything at once; members still have it.
            withdrawn = await ada.act(
                "set_announcement_public", {"announcement": tricky["announcement"], "public": False}
            )
            assert withdrawn["public"] is False
            after = (await anonymous.get(f"/c/{c}/announcements/archive")).json()
            assert [a["title"] for a in after["announcements"]] == ["Second"]
            gone = await anonymous.get(entry["url"])
            assert (gone.status_code, gone.json()["error"]["type"]) == (404, "unknown_announcement")
            stale = await anonymous.get(feed_url, headers={"if-none-match": feed.headers["etag"]})
            assert stale.status_code == 200
            assert [e.findtext(f"{A}title") for e in feed_entries(stale.content)[1]] == ["Second"]
            inbox = (await bea.get(f"/inbox/{tricky['announcement']}")).json()
            assert (inbox["title"], inbox["public"]) == (TRICKY, False)
            assert plain["public"] is True


async def test_communities_behind_one_gateway_never_see_each_others_archive(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        ada, _, _ = await community_of_three(http)
        zoe, _, _ = await community_of_three(http)
        await ada.act("compose_announcement", {"title": "River news", "body": "x", "public": True})
        await zoe.act("compose_announcement", {"title": "Hill news", "body": "y", "public": True})
        river = (await http.get(f"/c/{ada.community}/announcements/archive")).json()
        hill = (await http.get(f"/c/{zoe.community}/announcements/archive")).json()
        assert [a["title"] for a in river["announcements"]] == ["River news"]
        assert [a["title"] for a in hill["announcements"]] == ["Hill news"]
        assert river["community"]["did"] != hill["community"]["did"]
        foreign = await http.get(f"/c/{ada.community}/announcements/archive/{hill['announcements'][0]['id']}")
        assert (foreign.status_code, foreign.json()["error"]["type"]) == (404, "unknown_announcement")
        feed = await http.get(f"/c/{zoe.community}/announcements/archive.atom")
        assert [e.findtext(f"{A}title") for e in feed_entries(feed.content)[1]] == ["Hill news"]
