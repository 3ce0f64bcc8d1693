"""Announcements: admins compose for a segment, the community signs, members read their inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from services.messaging.domain.commands import Query
from shared.commands import CommandRejected
from shared.domain import DomainError
from shared.testkit.polling import eventually_async
from shared.trust.credentials import verify_credential
from shared.trust.errors import TrustError
from shared.trust.resolver import default_resolver

from .test_messaging_support import DEFAULT_MAIL_SETTINGS, World, running_world


@pytest.fixture
async def world(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(nc, nats_url, tmp_path) as started:
        yield started


async def test_an_announcement_reaches_its_segment_signed_by_the_community(world: World) -> None:
    bea = await world.admit("Bea", type_="supporter", tags=["river"])
    cy = await world.admit("Cy", type_="standard", tags=["river"])
    dee = await world.admit("Dee", type_="supporter", tags=["hill"])

    sent = await world.act(
        world.admin,
        "compose_announcement",
        {
            "title": "River clean-up",
            "body": "Saturday **9am** at the bridge.",
            "audience": {"types": ["supporter"], "tags": ["river"]},
        },
    )
    assert (sent["state"], sent["recipients"]) == ("sent", 1)

    inbox = await world.query(bea, "inbox_of")
    assert inbox["unread"] == 1
    assert inbox["announcements"][0]["title"] == "River clean-up"
    for outsider in (cy, dee):
        assert (await world.query(outsider, "inbox_of"))["announcements"] == []
        with pytest.raises(DomainError) as hidden:
            await world.query(outsider, "announcement", announcement=sent["announcement"])
        assert hidden.value.code == "unknown_announcement"

    shown = await world.query(bea, "announcement", announcement=sent["announcement"])
    assert shown["html"] == "<p>Saturday <strong>9am</strong> at the bridge.</p>\n"
    document = shown["document"]
    verified = verify_credential(document, default_resolver(), now=datetime.now(tz=UTC))
    assert verified.issuer == world.signer.keys[world.community].did
    assert document["credentialSubject"]["body"] == "Saturday **9am** at the bridge."
    forged = document | {"credentialSubject": document["credentialSubject"] | {"body": "Sunday instead"}}
    with pytest.raises(TrustError):
        verify_credential(forged, default_resolver(), now=datetime.now(tz=UTC))

    await world.act(bea, "mark_announcement_read", {"announcement": sent["announcement"]})
    assert (await world.query(bea, "inbox_of"))["unread"] == 0
    stats = await world.query(world.admin, "announcement_stats", announcement=sent["announcement"])
    assert (stats["recipients"], stats["read"]) == (1, 1)
    with pytest.raises(DomainError) as not_admin:
        await world.query(bea, "announcement_stats", announcement=sent["announcement"])
    assert not_admin.value.code == "not_an_admin"
    # No SMTP server configured here: the member's app is told email is not sent at all.
    assert await world.query(bea, "email_status") == {
        "available": False,
        "email": None,
        "pending": None,
        **DEFAULT_MAIL_SETTINGS,
    }


async def test_only_admins_in_good_standing_announce_and_nothing_is_sent_unsigned(world: World) -> None:
    bea = await world.admit("Bea")
    with pytest.raises(DomainError) as member:
        await world.act(bea, "compose_announcement", {"title": "Hi", "body": "all"})
    assert (member.value.code, member.value.status) == ("not_an_admin", 403)

    world.signer.available = False
    with pytest.raises(DomainError) as unsigned:
        await world.act(
            world.admin, "compose_announcement", {"title": "Hi", "body": "all", "announcement": "a1"}
        )
    assert (unsigned.value.code, unsigned.value.status) == ("community_signature_unavailable", 503)
    world.signer.available = True
    assert (await world.query(bea, "inbox_of"))["announcements"] == []
    again = await world.act(
        world.admin, "compose_announcement", {"title": "Hi", "body": "all", "announcement": "a1"}
    )
    assert again["state"] == "sent"

    stranger = await world.admit("Eve")
    await world.membership_act(world.admin, "suspend", {"member": stranger.did, "reason": "spam"})
    with pytest.raises(DomainError) as suspended:
        await world.query(stranger, "inbox_of")
    assert suspended.value.code == "member_suspended"


async def test_oversized_empty_and_replayed_announcements_are_refused(world: World) -> None:
    with pytest.raises(DomainError) as empty:
        await world.act(world.admin, "compose_announcement", {"title": " ", "body": "x"})
    assert (empty.value.code, empty.value.status) == ("invalid_post", 422)
    with pytest.raises(DomainError) as big:
        await world.act(world.admin, "compose_announcement", {"title": "Big", "body": "x" * 40_000})
    assert (big.value.code, big.value.status) == ("too_large", 413)
    with pytest.raises(DomainError) as malformed:
        await world.act(world.admin, "compose_announcement", {"title": "T", "body": "b", "colour": "red"})
    assert malformed.value.code == "invalid_request"

    signed = world.signed(world.admin, "compose_announcement", {"title": "Once", "body": "only once"})
    await world.handlers.compose_announcement(signed)
    with pytest.raises(CommandRejected) as replayed:
        await world.handlers.compose_announcement(signed)
    assert replayed.value.type == "statement_replayed"
    elsewhere = world.signed(
        world.admin, "compose_announcement", {"title": "T", "body": "b"}, community="other"
    )
    elsewhere.community = world.community
    with pytest.raises(CommandRejected) as wrong:
        await world.handlers.compose_announcement(elsewhere)
    assert wrong.value.type == "wrong_community"


async def test_a_scheduled_announcement_goes_out_when_due_and_can_be_cancelled_before(world: World) -> None:
    bea = await world.admit("Bea")
    # Soon enough to wait for, late enough that both are composed and listed as pending before
    # the scheduler (every second) sends it, on a loaded machine too.
    soon = (datetime.now(tz=UTC) + timedelta(seconds=5)).isoformat().replace("+00:00", "Z")
    later = (datetime.now(tz=UTC) + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    scheduled = await world.act(
        world.admin, "compose_announcement", {"title": "Soon", "body": "b", "send_at": soon}
    )
    cancelled = await world.act(
        world.admin, "compose_announcement", {"title": "Later", "body": "b", "send_at": later}
    )
    assert scheduled["state"] == cancelled["state"] == "scheduled"
    pending = await world.query(world.admin, "announcements")
    assert [p["title"] for p in pending["pending"]] == ["Soon", "Later"]
    await world.act(world.admin, "cancel_announcement", {"announcement": cancelled["announcement"]})
    with pytest.raises(DomainError) as twice:
        await world.act(world.admin, "send_announcement", {"announcement": cancelled["announcement"]})
    assert twice.value.code == "announcement_cancelled"

    async def delivered() -> list[str]:
        return [a["title"] for a in (await world.query(bea, "inbox_of"))["announcements"]]

    assert await eventually_async(delivered, within=30) == ["Soon"]


async def test_a_welcome_configured_by_an_admin_greets_each_member_admitted_after(world: World) -> None:
    before = await world.admit("Early")
    configured = await world.act(
        world.admin, "configure_welcome", {"title": "Welcome!", "body": "Say hello."}
    )
    assert configured["document"]["credentialSubject"]["audience"] == {"welcome": True}
    bea = await world.admit("Bea")

    async def welcomed() -> list[dict[str, object]]:
        return list((await world.query(bea, "inbox_of"))["announcements"])

    items = await eventually_async(welcomed, within=30)
    assert [(i["title"], i["welcome"], i["read"]) for i in items] == [("Welcome!", True, False)]
    await world.act(bea, "mark_announcement_read", {"announcement": items[0]["announcement"]})
    assert (await world.query(bea, "inbox_of"))["unread"] == 0
    assert (await world.query(before, "inbox_of"))["announcements"] == []
    assert await world.handlers.deliver_welcome(world.community, bea.did, 2**62) is False  # once only


async def test_an_admin_of_one_community_is_a_stranger_to_another(
    nc: NATS, nats_url: str, tmp_path: Path
) -> None:
    async with (
        running_world(nc, nats_url, tmp_path / "a") as first,
        running_world(nc, nats_url, tmp_path / "b") as second,
    ):
        bea = await second.admit("Bea")
        await second.act(second.admin, "compose_announcement", {"title": "B only", "body": "for B"})
        with pytest.raises(DomainError) as foreign:
            await second.act(first.admin, "compose_announcement", {"title": "From A", "body": "hello B"})
        assert (foreign.value.code, foreign.value.status) == ("not_a_member", 403)
        with pytest.raises(DomainError) as reading:
            await second.handlers.inbox_of(Query(community=second.community, member=first.admin.did))
        assert reading.value.code == "not_a_member"
        assert [a["title"] for a in (await second.query(bea, "inbox_of"))["announcements"]] == ["B only"]
        assert (await first.query(first.admin, "inbox_of"))["announcements"] == []
