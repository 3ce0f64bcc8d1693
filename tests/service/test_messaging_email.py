"""Email: opt-in with a verification link, announcements as multipart mail, delivery statistics.

Against a real SMTP server (aiosmtpd) on a free loopback port, not a mock.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from nats.aio.client import Client as NATS

from services.messaging.adapters.mailer import SmtpMailer
from services.messaging.config import MessagingSettings
from services.messaging.domain.commands import VerifyEmail
from shared.domain import DomainError
from shared.testkit.polling import eventually_async

from .test_messaging_support import DEFAULT_MAIL_SETTINGS, World, running_world

REFUSED = "bounce@river.example"


class Inbox:
    """The SMTP server's side: what it accepted, parsed; it refuses one address, as servers do."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
async def world(nc: NATS, nats_url: str, tmp_path: Path, smtp: tuple[Inbox, int]) -> AsyncIterator[World]:
    _, port = smtp
    settings = MessagingSettings(public_base_url="http://gw.test")
    mailer = SmtpMailer("127.0.0.1", port, "news@river.example")
    async with running_world(nc, nats_url, tmp_path, mailer, settings) as started:
        yield started


def link_in(message: EmailMessage) -> dict[str, Any]:
    body = message.get_body(("plain",))
    assert body is not None
    url = re.search(r"http://gw\.test/\S+", body.get_content())
    assert url is not None
    parsed = urlparse(url.group(0))
    query = parse_qs(parsed.query)
    return {"path": parsed.path, "member": unquote(query["member"][0]), "token": query["token"][0]}


async def test_a_member_opts_in_by_link_and_receives_announcements_as_multipart_mail(
    world: World, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    bea = await world.admit("Bea")
    cy = await world.admit("Cy")
    pending = await world.act(bea, "subscribe_email", {"email": "bea@river.example"})
    assert pending == {"status": "pending", "email": "bea@river.example"}
    status = await world.query(bea, "email_status")
    assert status == {
        "available": True,
        "email": None,
        "pending": "bea@river.example",
        **DEFAULT_MAIL_SETTINGS,
    }
    [verification] = inbox.to("bea@river.example")
    link = link_in(verification)
    assert link["path"] == f"/c/{world.community}/messaging/email/verify"
    assert link["member"] == bea.did

    with pytest.raises(DomainError) as guessed:
        await world.handlers.verify_email(VerifyEmail(world.community, bea.did, "guess"))
    assert guessed.value.code == "invalid_verification"
    assert (await world.handlers.verify_email(VerifyEmail(world.community, bea.did, link["token"])))[
        "status"
    ] == "verified"
    with pytest.raises(DomainError) as reused:
        await world.handlers.verify_email(VerifyEmail(world.community, bea.did, link["token"]))
    assert reused.value.code == "invalid_verification"
    status = await world.query(bea, "email_status")
    assert status == {
        "available": True,
        "email": "bea@river.example",
        "pending": None,
        **DEFAULT_MAIL_SETTINGS,
    }
    await world.act(cy, "subscribe_email", {"email": "cy@river.example"})  # never verified: no mail

    sent = await world.act(world.admin, "compose_announcement", {"title": "AGM", "body": "Agenda: *budget*."})
    assert (sent["recipients"], sent["emailing"]) == (3, 1)
    await world.handlers.drain()
    [mail] = [m for m in inbox.to("bea@river.example") if m["Subject"] == "AGM"]
    assert mail.is_multipart()
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Agenda: *budget*." in text.get_content()
    assert "<em>budget</em>" in html.get_content()
    assert "<img" not in html.get_content()
    stop = f"<http://gw.test/c/{world.community}/messaging/email/unsubscribe?member="
    assert mail["List-Unsubscribe"].startswith(stop)  # her own one-click link (RFC 8058)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    attachments = list(mail.iter_attachments())
    assert attachments[0].get_content_type() == "application/vc+ld+json"
    assert not [m for m in inbox.messages if m["To"] == "cy@river.example" and m["Subject"] == "AGM"]

    async def stats() -> dict[str, Any]:
        result: dict[str, Any] = await world.query(
            world.admin, "announcement_stats", announcement=sent["announcement"]
        )
        return result if result["email"]["sent"] else {}

    assert (await eventually_async(stats))["email"] == {"sent": 1, "failed": 0}
    await world.act(bea, "unsubscribe_email", {})
    status = await world.query(bea, "email_status")
    assert status == {
        "available": True,
        "email": None,
        "pending": None,
        **DEFAULT_MAIL_SETTINGS,
    }
    second = await world.act(world.admin, "compose_announcement", {"title": "Minutes", "body": "Attached."})
    assert second["emailing"] == 0


async def test_an_address_the_server_refuses_is_not_recorded_and_bad_addresses_are_refused(
    world: World, smtp: tuple[Inbox, int]
) -> None:
    bea = await world.admit("Bea")
    with pytest.raises(DomainError) as refused:
        await world.act(bea, "subscribe_email", {"email": REFUSED})
    assert (refused.value.code, refused.value.status) == ("email_undeliverable", 503)
    for bad in ("not-an-address", "a@b", "x@y.z\r\nBcc: all@river.example"):
        with pytest.raises(DomainError) as invalid:
            await world.act(bea, "subscribe_email", {"email": bad})
        assert invalid.value.code == "invalid_email"
    assert smtp[0].messages == []
    await world.act(bea, "subscribe_email", {"email": "bea@river.example"})
    with pytest.raises(DomainError) as flood:
        await world.act(bea, "subscribe_email", {"email": "someone.else@river.example"})
    assert (flood.value.code, flood.value.status) == ("too_many_requests", 429)
    assert [m["To"] for m in smtp[0].messages] == ["bea@river.example"]
