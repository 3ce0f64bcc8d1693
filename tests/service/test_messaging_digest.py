"""Summaries by email: a real NOTICES stream, the shared notice-mail worker and a real SMTP server.

The service's clock is moved past the summary's hour; everything else (posts, messages, reads) is
recorded for real and the mail is parsed as a member's mail program would.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from services.governance.bootstrap import start_governance
from services.membership.adapters.fakes import MemoryNonces
from services.messaging.handlers.notices import NoticeMail
from shared.commands import CommandClient
from shared.domain import DomainError
from shared.notices import NOTICE_STREAM
from shared.projection import Delivery
from shared.statements import sign_statement
from shared.testkit.polling import eventually_async
from shared.trust.member_keys import MemberKeys

from .test_governance_support import in_hours
from .test_messaging_email import Inbox, smtp  # noqa: F401 - smtp is a fixture
from .test_messaging_notice_mail import opted_in, text_of, world  # noqa: F401 - world is a fixture
from .test_messaging_support import World, seal_for

NS = 10**9
HOUR = 3600 * NS


@pytest.fixture
async def governance(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[None]:
    """Decide runs beside messaging: summaries ask it for each member's polls."""
    started = await start_governance(nc, nats_url, tmp_path / "governance", nonces=MemoryNonces())
    try:
        yield
    finally:
        await started.stop()


async def _at_least(found: Any, count: int) -> list[Any]:
    listed: list[Any] = await found
    return listed if len(listed) >= count else []


async def decide(nc: NATS, at: World, keys: MemberKeys, action: str, body: dict[str, Any]) -> Any:
    statement = sign_statement(
        keys,
        action=f"governance.{action}",
        community=at.community,
        body=body,
        nonce=secrets.token_hex(16),
        now=datetime.now(tz=UTC),
    )
    payload = {"community": at.community, "statement": statement}
    return await CommandClient(nc).call("governance", action, payload)


async def test_a_daily_summary_lists_what_she_has_not_read_once_and_only_when_there_is_something(
    world: World,  # noqa: F811
    nc: NATS,
    smtp: tuple[Inbox, int],  # noqa: F811
    governance: None,
) -> None:
    inbox, _ = smtp
    bea, cy, dee = [await opted_in(world, inbox, n) for n in ("Bea", "Cy", "Dee")]
    eve = await world.admit("Eve")  # no address: never a summary
    admin = world.admin
    chosen = await world.act(bea, "set_digest", {"frequency": "daily", "hour": 6})
    assert chosen == {"frequency": "daily", "hour": 6, "weekday": 0, "last": None}
    # A poll decided after Bea asked for summaries, and before Dee did.
    picnic = {"spec": {"kind": "proposal", "title": "Picnic"}, "closes_at": in_hours(72), "poll": "picnic"}
    await decide(nc, world, admin, "create_poll", picnic)
    await decide(nc, world, admin, "close_poll", {"poll": "picnic"})
    await decide(nc, world, admin, "state_outcome", {"poll": "picnic", "text": "No picnic this year."})
    for keys in (dee, eve):
        await world.act(keys, "set_digest", {"frequency": "daily", "hour": 6})
    assert (await world.query(bea, "email_status"))["digest"]["frequency"] == "daily"
    with pytest.raises(DomainError) as refused:
        await world.act(cy, "set_digest", {"frequency": "hourly"})
    assert (refused.value.code, refused.value.status) == ("invalid_request", 422)

    await world.act(admin, "create_category", {"category": "garden", "name": "Garden"})
    await world.act(
        admin, "create_category", {"category": "board", "name": "Board", "read_roles": ["moderator"]}
    )
    swap = await world.act(
        cy, "start_thread", {"category": "garden", "title": "Seed swap", "body": "Who has beans?"}
    )
    reply = await world.act(dee, "reply", {"thread": swap["thread"], "body": "Runner   beans\nhere, plenty"})
    await world.act(bea, "reply", {"thread": swap["thread"], "body": "My own words"})  # never listed to her
    compost = await world.act(
        cy, "start_thread", {"category": "garden", "title": "Compost", "body": "Turn it"}
    )
    await world.act(bea, "mark_read", {"scope": f"thread:{compost['thread']}", "position": 1})  # read
    fay = await world.admit("Fay", roles=["member", "moderator"])
    await world.act(fay, "start_thread", {"category": "board", "title": "Salaries", "body": "confidential"})
    await world.act(admin, "compose_announcement", {"title": "AGM on Friday", "body": "Agenda attached."})
    direct = await world.act(cy, "create_conversation", {"kind": "direct", "members": [bea.did]})
    for text in ("the gate code is 4711", "bring gloves"):
        await world.act(
            cy,
            "post_message",
            {"conversation": direct["conversation"], "sealed": seal_for([bea, cy], text)},
        )
    # Decide: one poll waits for Bea's vote; she has voted in the other.
    for poll, title in (("bakery", "Open a bakery?"), ("rota", "Rota")):
        spec = {"kind": "proposal", "title": title}
        await decide(nc, world, admin, "create_poll", {"spec": spec, "closes_at": in_hours(72), "poll": poll})
    await decide(nc, world, bea, "cast_ballot", {"poll": "rota", "choice": [0]})
    # Dee has voted in both and read all that concerns her: nothing to summarise, so no mail.
    await decide(nc, world, dee, "cast_ballot", {"poll": "bakery", "choice": [0]})
    await decide(nc, world, dee, "cast_ballot", {"poll": "rota", "choice": [0]})
    await world.act(dee, "mark_read", {"scope": f"thread:{swap['thread']}", "position": 3})
    await world.act(dee, "mark_read", {"scope": f"thread:{compost['thread']}", "position": 1})
    for sent in (await world.query(dee, "inbox"))["announcements"]:
        await world.act(dee, "mark_announcement_read", {"announcement": sent["announcement"]})
    await world.handlers.drain()

    # A day later (past 06:00 UTC): one summary is due, Bea's.
    later = time.time_ns() + 25 * HOUR
    world.handlers.digests_looked_ns = later  # the service's own minutely round stays out of the way
    world.handlers.clock = lambda: later
    assert await world.handlers.digest_round(force=True) == 1

    async def summaries(address: str) -> list[object]:
        return [m for m in inbox.to(address) if m["X-Notice"] == "digest"]

    [mail] = await eventually_async(lambda: summaries("bea@river.example"), within=60)
    assert mail["Subject"].strip() == (  # (a long subject is folded onto the next line)
        "Daily summary of River Co-op: 1 poll to vote in, 1 poll decided, 2 new posts, "
        "1 announcement, 2 private messages"
    )
    stop = f"<http://gw.test/c/{world.community}/messaging/email/unsubscribe?member="
    assert mail["List-Unsubscribe"].startswith(stop)  # her own one-click link (RFC 8058)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = text_of(mail).replace("\r\n", "\n")
    quoted = "\N{LEFT DOUBLE QUOTATION MARK}Seed swap\N{RIGHT DOUBLE QUOTATION MARK}"
    assert f"- {quoted} in Garden: 2 new posts from Cy and Dee" in body
    # The link and the excerpt are of the earliest new post, whitespace folded.
    assert f"/app/#/forums?thread={swap['thread']}&post={swap['post']}&c={world.community}" in body
    assert "\N{LEFT DOUBLE QUOTATION MARK}Who has beans?\N{RIGHT DOUBLE QUOTATION MARK}" in body
    assert reply["post"] not in body
    for absent in ("Compost", "Salaries", "confidential", "My own words", "4711", "gloves"):
        assert absent not in body, absent
    assert "\N{LEFT DOUBLE QUOTATION MARK}AGM on Friday\N{RIGHT DOUBLE QUOTATION MARK}" in body
    assert "- 2 messages from Cy\n" in body
    bakery = "\N{LEFT DOUBLE QUOTATION MARK}Open a bakery?\N{RIGHT DOUBLE QUOTATION MARK}"
    assert f"- Your vote: {bakery}, open until " in body
    assert f"/app/#/polls?poll=bakery&c={world.community}" in body
    assert (
        "- Decided: \N{LEFT DOUBLE QUOTATION MARK}Picnic\N{RIGHT DOUBLE QUOTATION MARK}: No picnic this year."
        in body
    )
    assert "Rota" not in body

    async def recorded() -> dict[str, Any] | None:  # after the SMTP server's answer
        status: dict[str, Any] = await world.query(bea, "email_status")
        return status if status["digest"]["last"] else None

    status = await eventually_async(recorded, within=60)
    assert status["digest"]["last"]["items"] == 7
    assert status["digest"]["last"]["period"].startswith("daily ")

    # The same period is never summarised twice: not by another round, not from a second copy of
    # the notice (another replica's, stored after the duplicate window).
    assert await world.handlers.digest_round(force=True) == 0
    world.handlers.digests_looked_at.clear()  # as a replica that has just started
    assert await world.handlers.digest_round(force=True) == 0
    last = status["digest"]["last"]
    until = int(datetime.fromisoformat(last["until"].replace("Z", "+00:00")).timestamp()) * NS
    assert later - 24 * HOUR < until <= later  # that day's 06:00 UTC
    assert until % HOUR == 0
    notice = {"kind": "digest", "member": bea.did, "frequency": "daily", "period": last["period"],
              "since_ns": until - 25 * HOUR, "until_ns": until}  # fmt: skip
    again = NoticeMail(world.handlers)
    subject = f"messaging.notice.{world.community}"
    delivery = Delivery(NOTICE_STREAM, 1, subject, json.dumps(notice).encode(), 1)
    await again.apply([delivery])
    assert again.mailed == 0
    assert len(await summaries("bea@river.example")) == 1
    assert not await summaries("dee@river.example")
    assert not [m for m in inbox.messages if m["To"] == "eve@river.example"]

    # The next day with nothing new: no mail.
    world.handlers.clock = lambda: later + 24 * HOUR
    assert await world.handlers.digest_round(force=True) == 0

    # A reply after that; two copies of the next summary's notice reach the worker in one batch
    # (stored more than the duplicate window apart): one mail.
    world.handlers.clock = time.time_ns  # the statement is signed now
    before = time.time_ns()
    await world.act(cy, "reply", {"thread": swap["thread"], "body": "Beans are in"})
    world.handlers.clock = lambda: later + 24 * HOUR
    second = notice | {"period": "daily next", "since_ns": before, "until_ns": until + 24 * HOUR}
    copy = Delivery(NOTICE_STREAM, 2, subject, json.dumps(second).encode(), 1)
    both = NoticeMail(world.handlers)
    await both.apply([copy, copy])
    assert both.mailed == 1
    _, next_day = await eventually_async(lambda: _at_least(summaries("bea@river.example"), 2), within=60)
    assert "1 new post" in next_day["Subject"]
    assert "Beans are in" in text_of(next_day)
