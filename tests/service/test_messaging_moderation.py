"""Moderation: flags, hide/remove with a signed reason, bans from a space, a readable log, appeals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from shared.domain import DomainError
from shared.statements import verify_statement

from .test_messaging_support import World, running_world


@pytest.fixture
async def world(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(nc, nats_url, tmp_path) as started:
        await started.act(started.admin, "create_category", {"category": "general", "name": "General"})
        yield started


async def test_a_removed_post_stops_being_retrievable_and_an_appeal_restores_it(world: World) -> None:
    bea, cy = await world.admit("Bea"), await world.admit("Cy")
    mo = await world.admit("Mo", roles=["member", "moderator"])
    thread = await world.act(
        bea, "start_thread", {"category": "general", "title": "Market", "body": "Stall prices"}
    )
    post = (await world.act(cy, "reply", {"thread": thread["thread"], "body": "cheap pills here"}))["post"]

    await world.act(bea, "moderate", {"target": post, "action": "flag", "reason": "spam"})
    with pytest.raises(DomainError) as flagged_twice:
        await world.act(bea, "moderate", {"target": post, "action": "flag", "reason": "spam"})
    assert flagged_twice.value.code == "already_flagged"
    queue = await world.query(mo, "moderation_queue")
    assert [(f["target"], f["flags"][0]["reason"]) for f in queue["flags"]] == [(post, "spam")]
    [shown] = queue["flags"]  # what the moderator decides on, without opening the thread
    assert (shown["author"], shown["state"], shown["excerpt"], shown["thread"], shown["space_name"]) == (
        cy.did,
        "visible",
        "cheap pills here",
        thread["thread"],
        "General",
    )
    with pytest.raises(DomainError) as not_mod:
        await world.act(bea, "moderate", {"target": post, "action": "remove", "reason": "spam"})
    assert not_mod.value.code == "not_a_moderator"
    with pytest.raises(DomainError) as no_reason:
        await world.act(mo, "moderate", {"target": post, "action": "remove", "reason": " "})
    assert no_reason.value.code == "reason_required"

    await world.act(mo, "moderate", {"target": post, "action": "remove", "reason": "advertising"})
    posts = (await world.query(bea, "thread", thread=thread["thread"]))["posts"]
    assert [p["post"] for p in posts] == [thread["post"]]
    assert (await world.query(bea, "search", text="pills"))["results"] == []
    with pytest.raises(DomainError) as gone:
        await world.query(bea, "post_history", post=post)
    assert gone.value.code == "unknown_post"

    [entry] = (await world.query(bea, "moderation_log"))["entries"]
    assert (entry["action"], entry["target"], entry["by"], entry["reason"]) == (
        "remove",
        post,
        mo.did,
        "advertising",
    )
    now = datetime.now(tz=UTC)
    signed = verify_statement(
        entry["statement"], action="messaging.moderate", community=world.community, now=now
    )
    assert signed.actor == mo.did
    assert signed.body["reason"] == "advertising"

    with pytest.raises(DomainError) as not_hers:
        await world.act(bea, "file_appeal", {"target_kind": "post", "target": post, "reason": "mine?"})
    assert not_hers.value.code == "not_yours"
    appeal = await world.act(
        cy, "file_appeal", {"target_kind": "post", "target": post, "reason": "it was a joke"}
    )
    with pytest.raises(DomainError) as own_decision:
        await world.act(
            mo, "decide_appeal", {"appeal": appeal["appeal"], "decision": "overturned", "reason": "ok"}
        )
    assert own_decision.value.code == "own_decision"
    await world.act(
        world.admin,
        "decide_appeal",
        {"appeal": appeal["appeal"], "decision": "overturned", "reason": "satire, not spam"},
    )
    posts = (await world.query(bea, "thread", thread=thread["thread"]))["posts"]
    assert [p["post"] for p in posts] == [thread["post"], post]
    actions = [e["action"] for e in (await world.query(cy, "moderation_log"))["entries"]]
    assert actions == [
        "restore",
        "appeal_overturned",
        "remove",
    ]  # newest first; the restore follows the decision
    assert (await world.query(cy, "appeals"))["appeals"][0]["decision"] == "overturned"


async def test_a_ban_from_a_space_keeps_the_member_out_until_lifted(world: World) -> None:
    bea = await world.admit("Bea")
    channel = await world.act(world.admin, "create_conversation", {"kind": "channel", "name": "Chat"})
    await world.act(
        world.admin, "ban", {"space": "category:general", "member": bea.did, "reason": "flooding"}
    )
    with pytest.raises(DomainError) as banned:
        await world.act(bea, "start_thread", {"category": "general", "title": "Hi", "body": "again"})
    assert (banned.value.code, banned.value.status) == ("banned", 403)
    assert (await world.query(bea, "categories"))["categories"] == []
    await world.act(bea, "post_message", {"conversation": channel["conversation"], "body": "still here"})

    with pytest.raises(DomainError) as twice:
        await world.act(
            world.admin, "ban", {"space": "category:general", "member": bea.did, "reason": "again"}
        )
    assert twice.value.code == "already_banned"
    appeal = await world.act(
        bea, "file_appeal", {"target_kind": "ban", "target": "category:general", "reason": "sorry"}
    )
    await world.act(
        world.admin, "decide_appeal", {"appeal": appeal["appeal"], "decision": "upheld", "reason": "no"}
    )
    with pytest.raises(DomainError) as decided:
        await world.act(
            world.admin,
            "decide_appeal",
            {"appeal": appeal["appeal"], "decision": "overturned", "reason": "x"},
        )
    assert decided.value.code == "appeal_decided"
    await world.act(
        world.admin, "ban", {"space": "category:general", "member": bea.did, "reason": "served", "ban": False}
    )
    await world.act(bea, "start_thread", {"category": "general", "title": "Hi", "body": "I'm back"})
    log = [(e["action"], e["kind"]) for e in (await world.query(bea, "moderation_log"))["entries"]]
    assert log == [("unban", "ban"), ("appeal_upheld", "appeal"), ("ban", "ban")]


async def test_a_hidden_post_is_kept_for_moderators_to_review_and_gone_for_members(world: World) -> None:
    bea, mo = await world.admit("Bea"), await world.admit("Mo", roles=["member", "moderator"])
    thread = await world.act(bea, "start_thread", {"category": "general", "title": "Rota", "body": "Mondays"})
    reply = await world.act(bea, "reply", {"thread": thread["thread"], "body": "heated words"})
    await world.act(mo, "moderate", {"target": reply["post"], "action": "hide", "reason": "cool down"})
    as_member = (await world.query(bea, "thread", thread=thread["thread"]))["posts"]
    as_moderator = (await world.query(mo, "thread", thread=thread["thread"]))["posts"]
    assert [p["post"] for p in as_member] == [thread["post"]]
    assert [(p["state"], p.get("body")) for p in as_moderator] == [
        ("visible", "Mondays"),
        ("hidden", "heated words"),
    ]
    with pytest.raises(DomainError) as edit:
        await world.act(bea, "edit_post", {"post": reply["post"], "body": "calmer words"})
    assert edit.value.code == "unknown_post"
