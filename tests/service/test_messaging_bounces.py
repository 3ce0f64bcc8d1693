"""Hard bounces: an address the mail server refuses for good stops getting mail, and she is told.

A real SMTP server (aiosmtpd) that accepts each address at first and later answers for some as a
server does for a mailbox that is gone (550 5.1.1) or full (552 5.2.2).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.messaging.adapters.mailer import hard_bounce
from shared.testkit.polling import eventually_async

from .test_messaging_email import Inbox, free_port
from .test_messaging_notice_mail import opted_in, world  # noqa: F401 - world is a fixture
from .test_messaging_support import World
from .test_messaging_unsubscribe import confirm_latest

GONE = "550 5.1.1 <bea@river.example>: no such user"
FULL = "552 5.2.2 mailbox full"


class ChangingInbox(Inbox):
    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, str] = {}  # address -> the refusal it now gets

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.answers:
            return self.answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[ChangingInbox, int]]:
    inbox, port = ChangingInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


async def test_a_mailbox_that_is_gone_stops_mail_and_her_settings_say_why(
    world: World,  # noqa: F811
    smtp: tuple[ChangingInbox, int],
) -> None:
    inbox, _ = smtp
    bea, cy, dee = [await opted_in(world, inbox, n) for n in ("Bea", "Cy", "Dee")]
    inbox.answers["bea@river.example"] = GONE
    inbox.answers["cy@river.example"] = FULL  # about this message, not the address: kept

    sent = await world.act(world.admin, "compose_announcement", {"title": "AGM", "body": "Thursday."})
    assert sent["emailing"] == 3
    await world.handlers.drain()
    status = await world.query(bea, "email_status")
    assert status["email"] is None
    assert status["bounced"]["email"] == "bea@river.example"
    assert status["bounced"]["said"] == GONE
    assert (await world.query(cy, "email_status"))["email"] == "cy@river.example"
    assert (await world.query(cy, "email_status"))["bounced"] is None
    stats = await world.query(world.admin, "announcement_stats", announcement=sent["announcement"])
    assert stats["email"] == {"sent": 1, "failed": 2}

    # Notice mails too: Dee's address goes while a forum mention is on its way; the next
    # announcement goes to Cy (and Dee, until her refusal is seen) but never to Bea again.
    await world.act(world.admin, "create_category", {"category": "garden", "name": "Garden"})
    inbox.answers["dee@river.example"] = "550 no such mailbox here"
    await world.act(
        cy, "start_thread", {"category": "garden", "title": "Beans", "body": "@Dee?", "mentions": [dee.did]}
    )

    async def dee_stopped() -> bool:
        return (await world.query(dee, "email_status"))["email"] is None

    assert await eventually_async(dee_stopped, within=60)
    assert (await world.query(dee, "email_status"))["bounced"]["said"] == "550 no such mailbox here"
    inbox.answers.clear()
    second = await world.act(world.admin, "compose_announcement", {"title": "Minutes", "body": "Here."})
    assert second["emailing"] == 1
    await world.handlers.drain()
    assert [m["To"] for m in inbox.messages if m["Subject"] == "Minutes"] == ["cy@river.example"]

    # Confirming an address again (the same one, repaired) clears the notice and mail resumes.
    await world.act(bea, "subscribe_email", {"email": "bea@river.example"})
    status = await world.query(bea, "email_status")
    assert (status["pending"], status["bounced"]["email"]) == ("bea@river.example", "bea@river.example")
    await confirm_latest(world, inbox, bea, "bea@river.example")
    status = await world.query(bea, "email_status")
    assert (status["email"], status["bounced"]) == ("bea@river.example", None)
    third = await world.act(world.admin, "compose_announcement", {"title": "Picnic", "body": "Sunday."})
    assert third["emailing"] == 2


def test_only_an_address_that_is_gone_counts_as_a_hard_bounce() -> None:
    assert hard_bounce("refused: 550 5.1.1 no such user")
    assert hard_bounce("refused: 553 5.1.3 bad address syntax")
    assert hard_bounce("refused: 551 user not local")
    assert hard_bounce("refused: 550 mailbox unavailable")  # no enhanced status: the reply code
    assert hard_bounce("refused: 554 5.1.10 null MX")
    assert not hard_bounce("refused: 550 5.7.1 message rejected as spam")  # the message, not her
    assert not hard_bounce("refused: 552 5.2.2 mailbox full")
    assert not hard_bounce("refused: 450 4.1.1 try later")
    assert not hard_bounce("failed: ConnectionRefusedError: [Errno 111]")
    assert not hard_bounce("sent")
