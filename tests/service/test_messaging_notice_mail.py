"""Decide by email: governance's notices, stored in the NOTICES stream, mailed by messaging.

Notices are published the way governance publishes them (`NatsNotices`, into a real NOTICES stream
on the test's nats-server); mail goes to a real SMTP server (aiosmtpd) on a loopback port.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS
from nats.js.api import ConsumerInfo

from services.governance.adapters.notices import NatsNotices
from services.messaging.adapters.mailer import SmtpMailer
from services.messaging.config import MessagingSettings
from services.messaging.domain.commands import VerifyEmail
from services.messaging.handlers.notices import MailUnavailable, NoticeMail
from shared.domain import DomainError
from shared.notices import NOTICE_STREAM, NoticePublisher
from shared.projection import Delivery, ProjectionWorker
from shared.testkit.polling import eventually_async
from shared.trust.member_keys import MemberKeys

from .test_messaging_email import Inbox, free_port, link_in, smtp  # noqa: F401 - smtp is a fixture
from .test_messaging_support import World, running_world, seal_for


def _stamp(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
async def world(
    nc: NATS,
    nats_url: str,
    tmp_path: Path,
    smtp: tuple[Inbox, int],  # noqa: F811
    request: pytest.FixtureRequest,
) -> AsyncIterator[World]:
    _, port = smtp
    settings = MessagingSettings(
        public_base_url="http://gw.test",
        notice_consumer=f"notice-mail-{uuid.uuid4().hex[:8]}",
        mail_delay_s=getattr(request, "param", 0.0),
    )
    mailer = SmtpMailer("127.0.0.1", port, "polls@river.example")
    async with running_world(nc, nats_url, tmp_path, mailer, settings) as started:
        yield started


async def opted_in(world: World, inbox: Inbox, name: str) -> MemberKeys:
    keys = await world.admit(name)
    address = f"{name.lower()}@river.example"
    await world.act(keys, "subscribe_email", {"email": address})
    [verification] = inbox.to(address)
    await world.handlers.verify_email(VerifyEmail(world.community, keys.did, link_in(verification)["token"]))
    return keys


async def mails_to(inbox: Inbox, address: str, count: int) -> list[EmailMessage]:
    """Her first `count` notice mails, once they are in. A test's fresh mail worker reads the
    shared NOTICES stream from its start (every earlier test's notices first): on a busy machine
    that may take a while, hence the long bound."""

    async def arrived() -> list[EmailMessage]:
        found = [m for m in inbox.to(address) if m["X-Notice"]]
        return found if len(found) >= count else []

    return await eventually_async(arrived, within=60)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


async def test_notices_are_mailed_to_recipients_who_asked_for_email_at_the_level_they_chose(
    world: World,
    nc: NATS,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea, cy, eve, fay = [await opted_in(world, inbox, n) for n in ("Bea", "Cy", "Eve", "Fay")]
    dee = await world.admit("Dee")  # no address: the app only
    await world.act(eve, "set_notification_level", {"scope": "decide", "level": "muted"})
    await world.act(fay, "set_notification_level", {"scope": "decide", "level": "watching"})
    assert (await world.query(fay, "email_status"))["decide"] == "watching"
    everyone = [p.did for p in (bea, cy, dee, eve, fay)]
    notices = NatsNotices(nc)
    closes = _stamp(timedelta(days=3))
    await notices.notify(
        world.community,
        {"kind": "poll_opened", "poll": "budget", "title": "Budget 2027", "closes_at": closes,
         "recipients": everyone},
    )  # fmt: skip
    # Progress of the ceremony: mailed only to those watching.
    await notices.notify(
        world.community,
        {"kind": "trustee_committed", "poll": "budget", "title": "Budget 2027", "trustee": 1,
         "recipients": [bea.did, fay.did]},
    )  # fmt: skip

    opened, progress = await mails_to(inbox, "fay@river.example", 2)
    assert opened["Subject"] == "Poll open: Budget 2027"
    assert progress["Subject"] == "Budget 2027: trustee 1 made their part of the key"
    [for_bea] = await mails_to(inbox, "bea@river.example", 1)
    assert for_bea["Subject"] == "Poll open: Budget 2027"
    body = text_of(for_bea)
    assert f"http://gw.test/app/#/polls?poll=budget&c={world.community}" in body
    when = datetime.strptime(closes, "%Y-%m-%dT%H:%M:%SZ")
    assert f"until {when.day} {when:%B %Y, %H:%M} UTC" in body
    stop = f"<http://gw.test/c/{world.community}/messaging/email/unsubscribe?member="
    assert for_bea["List-Unsubscribe"].startswith(stop)  # her own one-click link (RFC 8058)
    assert for_bea["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (for_bea["Auto-Submitted"], for_bea["X-Poll"]) == ("auto-generated", "budget")
    assert [m["Subject"] for m in await mails_to(inbox, "cy@river.example", 1)] == ["Poll open: Budget 2027"]
    # The notices were applied in order by one worker: Fay's second mail means all are done.
    assert [m["Subject"] for m in inbox.to("bea@river.example") if m["X-Notice"]] == [
        "Poll open: Budget 2027"
    ]
    assert not [m for m in inbox.to("eve@river.example") if m["X-Notice"]]  # muted
    assert not [m for m in inbox.messages if m["To"] == "dee@river.example"]


async def test_closed_polls_are_not_advertised_repeats_are_mailed_once_and_suspended_members_get_none(
    world: World,
    nc: NATS,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea, cy = await opted_in(world, inbox, "Bea"), await opted_in(world, inbox, "Cy")
    await world.membership_act(world.admin, "suspend", {"member": cy.did, "reason": "unpaid dues"})
    notices = NatsNotices(nc)
    await notices.notify(
        world.community,
        {"kind": "reminder", "poll": "old", "title": "Old poll", "closes_at": _stamp(-timedelta(hours=1)),
         "recipients": [bea.did]},
    )  # fmt: skip
    reminder = {"kind": "reminder", "poll": "p", "title": "Picnic", "closes_at": _stamp(timedelta(hours=5)),
                "recipients": [bea.did, cy.did]}  # fmt: skip
    await notices.notify(world.community, reminder)
    await notices.notify(world.community, dict(reminder))  # a scheduler round redone: stored once
    await notices.notify(
        world.community,
        {"kind": "poll_closed", "poll": "p", "title": "Picnic", "outcome": "carried",
         "recipients": [bea.did]},
    )  # fmt: skip

    reminded, result = await mails_to(inbox, "bea@river.example", 2)
    assert reminded["Subject"].startswith("Reminder: Picnic closes ")
    assert "You have not voted on" in text_of(reminded)
    assert result["Subject"] == "Result: Picnic"
    assert "Outcome: carried." in text_of(result)
    assert not [m for m in inbox.to("cy@river.example") if m["X-Notice"]]


async def test_notices_stored_while_no_worker_ran_are_mailed_when_one_is_back(
    world: World,
    nc: NATS,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea = await opted_in(world, inbox, "Bea")
    worker = world.messaging.notice_mail
    assert worker is not None
    await worker.stop()
    await NatsNotices(nc).notify(
        world.community,
        {"kind": "decryption_requested", "poll": "secret", "title": "Chair", "recipients": [bea.did]},
    )
    # Stored, and delivered to no worker: nothing can have mailed it.
    stored = await nc.jetstream().get_last_msg(NOTICE_STREAM, f"governance.notice.{world.community}")
    assert (await mail_consumer(nc, world)).delivered.stream_seq < stored.seq
    assert not [m for m in inbox.to("bea@river.example") if m["X-Notice"]]

    back = await ProjectionWorker(
        nc,
        NOTICE_STREAM,
        world.handlers.settings.notice_consumer,
        NoticeMail(world.handlers).apply,
    ).start()
    try:
        [mail] = await mails_to(inbox, "bea@river.example", 1)
    finally:
        await back.stop()
    assert mail["Subject"] == "Your turn: decrypt your share of Chair"


async def test_an_unreachable_smtp_server_hands_the_batch_back_and_bad_settings_are_refused(
    world: World,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea = await opted_in(world, inbox, "Bea")
    notice = {"kind": "key_requested", "poll": "s", "title": "Chair", "recipients": [bea.did]}
    delivery = Delivery(
        stream=NOTICE_STREAM,
        sequence=1,
        subject=f"governance.notice.{world.community}",
        data=json.dumps(notice).encode(),
        delivered=1,
    )
    mailer = world.handlers.mailer
    world.handlers.mailer = SmtpMailer("127.0.0.1", free_port(), "polls@river.example", timeout_s=2)
    try:
        with pytest.raises(MailUnavailable, match="no notice mail was accepted"):
            await NoticeMail(world.handlers).apply([delivery])
    finally:
        world.handlers.mailer = mailer
    sent = NoticeMail(world.handlers)
    await sent.apply([delivery])  # the same batch, tried again
    assert sent.mailed == 1
    [mail] = [m for m in inbox.to("bea@river.example") if m["X-Notice"] == "key_requested"]
    assert mail["Subject"] == "Your part of the key for Chair"

    with pytest.raises(DomainError) as wrong:
        await world.act(bea, "set_notification_level", {"scope": "decide", "level": "loud"})
    assert wrong.value.code == "invalid_request"
    with pytest.raises(DomainError) as marker:
        await world.act(bea, "mark_read", {"scope": "decide", "position": 3})
    assert marker.value.code == "invalid_request"


async def test_forum_posts_are_mailed_by_reason_at_the_discuss_level_and_not_once_read(
    world: World,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea, cy, dee, fay = [await opted_in(world, inbox, n) for n in ("Bea", "Cy", "Dee", "Fay")]
    await world.act(world.admin, "create_category", {"category": "garden", "name": "Garden"})
    await world.act(dee, "set_notification_level", {"scope": "discuss", "level": "muted"})
    await world.act(fay, "set_notification_level", {"scope": "category:garden", "level": "watching"})
    await world.act(fay, "set_notification_level", {"scope": "discuss", "level": "watching"})
    assert (await world.query(fay, "email_status"))["discuss"] == "watching"
    started = await world.act(
        bea, "start_thread", {"category": "garden", "title": "Seed swap", "body": "Who has beans?"}
    )
    # Fay watches the category: told of the new thread; nobody else is.
    [first] = await mails_to(inbox, "fay@river.example", 1)
    assert (
        first["Subject"]
        == "New post in \N{LEFT DOUBLE QUOTATION MARK}Seed swap\N{RIGHT DOUBLE QUOTATION MARK}"
    )
    reply = await world.act(
        cy,
        "reply",
        {"thread": started["thread"], "body": "Runner beans here, @Dee too", "mentions": [dee.did]},
    )
    [to_bea] = await mails_to(inbox, "bea@river.example", 1)
    assert (
        to_bea["Subject"]
        == "New reply to \N{LEFT DOUBLE QUOTATION MARK}Seed swap\N{RIGHT DOUBLE QUOTATION MARK}"
    )
    assert (to_bea["X-Notice"], to_bea["X-Post"]) == ("reply", reply["post"])
    text = text_of(to_bea)
    assert "Cy wrote in" in text
    assert "Runner beans here, @Dee too" in text
    assert f"/app/#/forums?thread={started['thread']}&post={reply['post']}&c={world.community}" in text
    await mails_to(inbox, "fay@river.example", 2)
    assert not [m for m in inbox.to("dee@river.example") if m["X-Notice"]]  # mentioned, but muted mail
    assert not [m for m in inbox.to("cy@river.example") if m["X-Notice"]]  # her own post

    # Had Bea read the reply in the app before the mail went, it would not have gone.
    await world.act(bea, "mark_read", {"scope": f"thread:{started['thread']}", "position": 2})
    notice = {"kind": "forum_post", "thread": started["thread"], "post": reply["post"], "category": "garden",
              "by": cy.did, "reasons": {bea.did: "reply"}, "recipients": [bea.did]}  # fmt: skip
    again = NoticeMail(world.handlers)
    await again.apply(
        [Delivery(NOTICE_STREAM, 1, f"messaging.notice.{world.community}", json.dumps(notice).encode(), 1)]
    )
    assert again.mailed == 0


@pytest.mark.parametrize("world", [3.0], indirect=True)
async def test_a_forum_mail_waits_and_goes_only_to_whom_has_not_read_the_post_meanwhile(
    world: World,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea, cy, fay = [await opted_in(world, inbox, n) for n in ("Bea", "Cy", "Fay")]
    await world.act(world.admin, "create_category", {"category": "garden", "name": "Garden"})
    await world.act(fay, "set_notification_level", {"scope": "category:garden", "level": "watching"})
    await world.act(fay, "set_notification_level", {"scope": "discuss", "level": "watching"})
    started = await world.act(
        bea, "start_thread", {"category": "garden", "title": "Seed swap", "body": "Who has beans?"}
    )
    await world.act(fay, "mark_read", {"scope": f"thread:{started['thread']}", "position": 1})
    posted_at = time.monotonic()
    reply = await world.act(cy, "reply", {"thread": started["thread"], "body": "Runner beans here"})
    # Bea is reading along: she reads the reply within the delay, so it is not mailed to her.
    await world.act(bea, "mark_read", {"scope": f"thread:{started['thread']}", "position": 2})
    [to_fay] = await mails_to(inbox, "fay@river.example", 1)
    assert time.monotonic() - posted_at >= 3.0  # not before the delay
    assert (to_fay["X-Notice"], to_fay["X-Post"]) == ("watching", reply["post"])
    # Both were decided on the same notice: Fay's mail means Bea's was not sent.
    assert not [m for m in inbox.to("bea@river.example") if m["X-Notice"]]
    assert not [m for m in inbox.to("cy@river.example") if m["X-Notice"]]


# The delay must outlast the four messages and Fay's read below, or the first mail would go
# before the run is complete (a loaded machine can take a second over them).
@pytest.mark.parametrize("world", [3.0], indirect=True)
async def test_unread_private_messages_are_mailed_once_per_unread_run_without_their_text(
    world: World,
    nc: NATS,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea, cy, dee, eve, fay = [await opted_in(world, inbox, n) for n in ("Bea", "Cy", "Dee", "Eve", "Fay")]
    direct = await world.act(bea, "create_conversation", {"kind": "direct", "members": [cy.did]})
    group = await world.act(
        bea,
        "create_conversation",
        {"kind": "group", "name": "Allotment", "members": [dee.did, eve.did, fay.did]},
    )
    await world.act(dee, "set_notification_level", {"scope": "chat", "level": "muted"})
    await world.act(
        eve, "set_notification_level", {"scope": f"conversation:{group['conversation']}", "level": "muted"}
    )
    assert (await world.query(dee, "email_status"))["chat"] == "muted"
    assert (await world.query(cy, "email_status"))["chat"] == "normal"

    async def say(keys: MemberKeys, conversation: dict[str, Any], text: str) -> str:
        members = [m for m in (bea, cy, dee, eve, fay) if m.did in conversation["members"]]
        posted = await world.act(
            keys,
            "post_message",
            {"conversation": conversation["conversation"], "sealed": seal_for(members, text)},
        )
        return str(posted["message"])

    for text in ("the gate code is 4711", "bring gloves", "and the wheelbarrow"):
        await say(bea, direct, text)
    await say(bea, group, "watering rota on Sunday")
    await world.act(fay, "mark_read", {"scope": f"conversation:{group['conversation']}", "position": 1})

    [first] = await mails_to(inbox, "cy@river.example", 1)
    assert first["Subject"] == "Bea sent 3 new messages to you"
    assert first["X-Conversation"] == direct["conversation"]
    body = text_of(first)
    assert "4711" not in body  # the server cannot read them, nor mail them
    assert "gloves" not in body
    assert f"/app/#/chat?conversation={direct['conversation']}&c={world.community}" in body
    # Every notice decided: Fay read the group's message in time, Eve muted the group and Dee
    # chat mail, so none of them was mailed.
    await eventually_async(lambda: settled(nc, world), within=60)
    for address in ("dee", "eve", "fay"):
        assert not [m for m in inbox.to(f"{address}@river.example") if m["X-Notice"]]

    # Cy reads; the next message starts a new unread run, so it is mailed once more.
    await world.act(cy, "mark_read", {"scope": f"conversation:{direct['conversation']}", "position": 3})
    await say(cy, direct, "thanks!")  # her own message is never mailed to her
    await say(bea, direct, "see you there")
    _, second = await mails_to(inbox, "cy@river.example", 2)
    assert second["Subject"] == "Bea sent a new message to you"
    [to_bea] = await mails_to(inbox, "bea@river.example", 1)
    assert to_bea["Subject"] == "Cy sent a new message to you"


async def mail_consumer(nc: NATS, world: World) -> ConsumerInfo:
    return await nc.jetstream().consumer_info(NOTICE_STREAM, world.handlers.settings.notice_consumer)


async def settled(nc: NATS, world: World) -> bool:
    """Every stored notice decided by the mail worker: none waiting, none handed back to wait."""
    info = await mail_consumer(nc, world)
    return not info.num_pending and not info.num_ack_pending


async def opening_mail(
    world: World, nc: NATS, inbox: Inbox, poll: str, title: str, **extra: Any
) -> tuple[MemberKeys, EmailMessage]:
    """Bea, opted in, is the one recipient of a `poll_opened` notice with `extra` fields: she and
    its mail."""
    bea = await opted_in(world, inbox, "Bea")
    closes = _stamp(timedelta(days=3))
    notice = {
        "kind": "poll_opened",
        "poll": poll,
        "title": title,
        "closes_at": closes,
        "recipients": [bea.did],
    }
    await NatsNotices(nc).notify(world.community, notice | extra)
    [opened] = await mails_to(inbox, "bea@river.example", 1)
    return bea, opened


async def test_a_meeting_polls_times_are_mailed_and_the_meeting_its_outcome_fixed_comes_as_a_calendar_file(
    world: World,
    nc: NATS,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    times = ["2026-12-04T17:00:00Z", "2026-12-11T17:00:00Z"]
    bea, opened = await opening_mail(world, nc, inbox, "agm", "AGM", times=times)
    assert (
        "Say which of these times you can come to:\n- 4 December 2026, 17:00 UTC\n- 11 December"
        in text_of(opened).replace("\r\n", "\n")
    )
    meeting = {"start": "2026-12-04T17:00:00Z", "end": "2026-12-04T18:30:00Z", "location": "The hall",
               "fixed_at": "2026-11-24T10:00:00Z", "revision": 1}  # fmt: skip
    await NatsNotices(nc).notify(
        world.community,
        {"kind": "outcome_stated", "poll": "agm", "title": "AGM", "text": "We meet on the 4th.",
         "meeting": meeting, "recipients": [bea.did]},
    )  # fmt: skip
    _, mail = await mails_to(inbox, "bea@river.example", 2)
    assert mail["Subject"] == "Outcome: AGM"
    body = text_of(mail)
    assert "We meet on the 4th." in body
    assert "4 December 2026, 17:00 UTC to 4 December 2026, 18:30 UTC, The hall" in body
    [calendar] = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert (calendar.get_filename(), calendar.get_param("method")) == ("meeting.ics", "PUBLISH")
    ics = str(calendar.get_content())
    for line in ("DTSTART:20261204T170000Z", "DTEND:20261204T183000Z", "SUMMARY:AGM", "SEQUENCE:1",
                 f"UID:{world.community}.poll.agm@gw.test", "LOCATION:The hall"):  # fmt: skip
        assert line in ics.splitlines(), line


@pytest.mark.parametrize("world", [600.0], indirect=True)
async def test_a_poll_notice_is_mailed_at_once_behind_more_waiting_messages_than_a_default_consumer_holds(
    world: World,
    nc: NATS,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    """Chat notices wait ten minutes each, unacknowledged; JetStream's default consumer stops
    delivering at 1,000 of those, which would hold a poll's notice back for the whole wait."""
    inbox, _ = smtp
    bea = await opted_in(world, inbox, "Bea")
    waiting = 1500
    chat = NoticePublisher(nc, "messaging")
    for i in range(waiting):
        await chat.notify(
            world.community,
            {"kind": "chat_message", "conversation": f"c{i}", "message": f"m{i}", "by": world.admin.did,
             "recipients": [bea.did]},
        )  # fmt: skip

    async def all_waiting() -> bool:
        info = await mail_consumer(nc, world)
        return info.num_ack_pending >= waiting and not info.num_pending

    await eventually_async(all_waiting, within=60)
    await NatsNotices(nc).notify(
        world.community,
        {"kind": "poll_opened", "poll": "budget", "title": "Budget 2027",
         "closes_at": _stamp(timedelta(days=3)), "recipients": [bea.did]},
    )  # fmt: skip
    [mail] = await mails_to(inbox, "bea@river.example", 1)
    assert mail["Subject"] == "Poll open: Budget 2027"


async def test_a_count_polls_opening_mail_says_how_many_must_be_in(
    world: World,
    nc: NATS,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    _, opened = await opening_mail(world, nc, smtp[0], "flour", "Flour", target=10)
    text = " ".join(text_of(opened).split())
    assert "It goes ahead if 10 members say they are in. Are you in?" in text


async def test_a_complaint_of_a_dealt_share_and_its_answer_are_mailed_with_the_trustees_numbers(
    world: World,
    nc: NATS,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea = await opted_in(world, inbox, "Bea")  # the dealer, at the default level
    for kind in ("share_complained", "share_revealed"):
        await NatsNotices(nc).notify(
            world.community,
            {"kind": kind, "poll": "budget", "title": "Budget 2027", "trustee": 3, "dealer": 1,
             "recipients": [bea.did]},
        )  # fmt: skip
    complained, revealed = await mails_to(inbox, "bea@river.example", 2)
    assert complained["Subject"] == "Budget 2027: trustee 3 complained of the share trustee 1 dealt"
    assert "The dealer answers by revealing that share in the app" in " ".join(text_of(complained).split())
    assert revealed["Subject"] == "Budget 2027: trustee 1 revealed the share dealt to trustee 3"
    assert "Trustee 3 uses it in place of the sealed one." in " ".join(text_of(revealed).split())
