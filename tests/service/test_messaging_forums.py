"""Forums: per-role categories, threads, replies with quotes and mentions, reactions, edits, search."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from shared.domain import DomainError

from .test_messaging_support import World, person, running_world


class Tags(HTMLParser):
    """The elements and attributes a browser would build from rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


@pytest.fixture
async def world(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(nc, nats_url, tmp_path) as started:
        await started.act(started.admin, "create_category", {"category": "general", "name": "General"})
        yield started


async def test_categories_are_read_and_written_by_role(world: World) -> None:
    bea = await world.admit("Bea")
    mod = await world.admit("Mo", roles=["member", "moderator"])
    await world.act(
        world.admin,
        "create_category",
        {"category": "board", "name": "Board room", "read_roles": ["admin", "moderator"]},
    )
    await world.act(
        world.admin, "create_category", {"category": "news", "name": "News", "post_roles": ["admin"]}
    )
    assert sorted(c["name"] for c in (await world.query(bea, "categories"))["categories"]) == [
        "General",
        "News",
    ]
    assert len((await world.query(mod, "categories"))["categories"]) == 3

    with pytest.raises(DomainError) as hidden:
        await world.act(bea, "start_thread", {"category": "board", "title": "Hi", "body": "there"})
    assert hidden.value.code == "unknown_category"
    with pytest.raises(DomainError) as read_only:
        await world.act(bea, "start_thread", {"category": "news", "title": "Hi", "body": "there"})
    assert (read_only.value.code, read_only.value.status) == ("not_allowed_to_post", 403)
    with pytest.raises(DomainError) as not_admin:
        await world.act(bea, "create_category", {"category": "mine", "name": "Mine"})
    assert not_admin.value.code == "not_an_admin"
    with pytest.raises(DomainError) as stranger:
        await world.query(person(), "categories")
    assert (stranger.value.code, stranger.value.status) == ("not_a_member", 403)
    with pytest.raises(DomainError) as outsider:
        await world.act(person(), "start_thread", {"category": "general", "title": "Spam", "body": "buy"})
    assert outsider.value.code == "not_a_member"

    await world.act(
        world.admin, "configure_category", {"category": "board", "name": "Board room", "read_roles": []}
    )
    assert len((await world.query(bea, "categories"))["categories"]) == 3


async def test_a_thread_with_replies_quotes_mentions_reactions_and_edit_history(world: World) -> None:
    bea, cy = await world.admit("Bea"), await world.admit("Cy")
    started = await world.act(
        bea,
        "start_thread",
        {
            "category": "general",
            "title": "Tool library",
            "body": "Who has a **ladder**?",
            "mentions": [cy.did],
        },
    )
    reply = await world.act(
        cy,
        "reply",
        {
            "thread": started["thread"],
            "body": "I do.",
            "quote": {"post": started["post"], "excerpt": "a **ladder**"},
        },
    )
    with pytest.raises(DomainError) as misquoted:
        await world.act(
            cy,
            "reply",
            {
                "thread": started["thread"],
                "body": "x",
                "quote": {"post": started["post"], "excerpt": "a crane"},
            },
        )
    assert misquoted.value.code == "invalid_quote"
    with pytest.raises(DomainError) as stranger_mention:
        await world.act(cy, "reply", {"thread": started["thread"], "body": "x", "mentions": [person().did]})
    assert stranger_mention.value.code == "unknown_mention"

    await world.act(world.admin, "react", {"target": reply["post"], "reaction": "👍"})
    await world.act(bea, "react", {"target": reply["post"], "reaction": "👍"})
    await world.act(bea, "react", {"target": reply["post"], "reaction": "👍"})  # twice is once
    with pytest.raises(DomainError) as bad_reaction:
        await world.act(bea, "react", {"target": reply["post"], "reaction": "<b>"})
    assert bad_reaction.value.code == "invalid_reaction"

    await world.act(bea, "edit_post", {"post": started["post"], "body": "Who has a **tall** ladder?"})
    with pytest.raises(DomainError) as not_hers:
        await world.act(cy, "edit_post", {"post": started["post"], "body": "mine now"})
    assert not_hers.value.code == "not_your_post"

    thread = await world.query(cy, "thread", thread=started["thread"])
    opening, answer = thread["posts"]
    assert (thread["title"], opening["edited"], opening["html"]) == (
        "Tool library",
        True,
        "<p>Who has a <strong>tall</strong> ladder?</p>\n",
    )
    assert answer["quote"] == {"post": started["post"], "excerpt": "a **ladder**", "by": bea.did}
    assert (answer["reactions"], answer["mine"]) == ({"👍": 2}, [])
    history = await world.query(cy, "post_history", post=started["post"])
    assert [v["body"] for v in history["versions"]] == ["Who has a **ladder**?", "Who has a **tall** ladder?"]

    notes = (await world.query(cy, "notifications"))["notifications"]
    assert [(n["reason"], n["post"]) for n in notes] == [("mention", started["post"])]
    assert [n["reason"] for n in (await world.query(bea, "notifications"))["notifications"]] == ["reply"]


async def test_html_and_script_in_posts_are_neutralised_not_lost(world: World) -> None:
    bea = await world.admit("Bea")
    body = "<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)> ![p](http://t.example/p.gif)"
    started = await world.act(
        bea, "start_thread", {"category": "general", "title": "<b>Hi</b>", "body": body}
    )
    [post] = (await world.query(bea, "thread", thread=started["thread"]))["posts"]
    assert post["body"] == body  # the source is kept exactly
    tags = Tags()
    tags.feed(post["html"])
    assert tags.seen == [
        ("p", []),
        ("a", [("href", "http://t.example/p.gif"), ("rel", "nofollow noopener noreferrer ugc")]),
    ]
    assert "&lt;script&gt;" in post["html"]
    assert post["title"] == "<b>Hi</b>"
    with pytest.raises(DomainError) as control:
        await world.act(bea, "reply", {"thread": started["thread"], "body": "bell\x07"})
    assert control.value.code == "invalid_post"


async def test_pinned_resolved_search_unread_and_notification_levels(world: World) -> None:
    bea, cy = await world.admit("Bea"), await world.admit("Cy")
    first = await world.act(
        bea, "start_thread", {"category": "general", "title": "Compost rota", "body": "Mondays?"}
    )
    second = await world.act(
        cy, "start_thread", {"category": "general", "title": "Seed swap", "body": "Tomatoes"}
    )
    await world.act(cy, "set_notification_level", {"scope": "category:general", "level": "watching"})
    answer = await world.act(cy, "reply", {"thread": first["thread"], "body": "Mondays and Thursdays"})
    await world.act(world.admin, "reply", {"thread": first["thread"], "body": "Agreed, compost on Mondays"})
    with pytest.raises(DomainError) as not_mod:
        await world.act(bea, "pin_thread", {"thread": first["thread"]})
    assert not_mod.value.code == "not_a_moderator"
    await world.act(world.admin, "pin_thread", {"thread": second["thread"]})
    await world.act(bea, "resolve_thread", {"thread": first["thread"], "answer": answer["post"]})
    with pytest.raises(DomainError) as not_author:
        await world.act(cy, "resolve_thread", {"thread": first["thread"], "resolved": False})
    assert not_author.value.code == "not_your_thread"

    listed = (await world.query(bea, "threads", category="general"))["threads"]
    assert [(t["title"], t["pinned"], t["resolved"]) for t in listed] == [
        ("Seed swap", True, False),
        ("Compost rota", False, True),
    ]
    unread = await world.query(bea, "unread")
    assert unread["threads"] == {first["thread"]: 2, second["thread"]: 1}
    await world.act(bea, "mark_read", {"scope": f"thread:{first['thread']}", "position": 3})
    assert first["thread"] not in (await world.query(bea, "unread"))["threads"]

    found = (await world.query(bea, "search", text="compost mondays"))["results"]
    assert {r["thread"] for r in found} == {first["thread"]}
    assert len(found) == 2
    assert "compost" in found[0]["snippet"].lower()
    notes = (await world.query(cy, "notifications"))["notifications"]
    assert [(n["reason"], n["title"]) for n in notes] == [("watching", "Compost rota")]
    # Her level as the thread shows it: the category's until the thread has one of its own.
    assert (await world.query(cy, "thread", thread=first["thread"]))["level"] == "watching"
    assert (await world.query(bea, "thread", thread=first["thread"]))["level"] == "normal"
    await world.act(cy, "set_notification_level", {"scope": f"thread:{first['thread']}", "level": "muted"})
    assert (await world.query(cy, "thread", thread=first["thread"]))["level"] == "muted"
    general = [c for c in (await world.query(cy, "categories"))["categories"] if c["category"] == "general"]
    assert [c["level"] for c in general] == ["watching"]
    await world.act(bea, "reply", {"thread": first["thread"], "body": "thanks"})
    assert len((await world.query(cy, "notifications"))["notifications"]) == 1
    # The read marker that marks the whole thread read is its position, hidden posts included.
    assert (await world.query(bea, "thread", thread=first["thread"]))["position"] == 4
    with pytest.raises(DomainError) as level:
        await world.act(cy, "set_notification_level", {"scope": "category:general", "level": "loud"})
    assert level.value.code == "invalid_request"
