"""One click stops all mail from a community (RFC 8058), from the link in the mail itself.

Real nats-server, real SMTP server (aiosmtpd): the links are taken from the mails as a mail program
would take them, from the `List-Unsubscribe` header and from the foot of the text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from nats.aio.client import Client as NATS

from services.messaging.adapters.mailer import SmtpMailer
from services.messaging.config import MessagingSettings
from services.messaging.domain.commands import EmailLink, VerifyEmail
from services.messaging.domain.events import EmailOptedOut, EmailOptedOutByLink
from services.messaging.domain.participant import participant_id
from shared.domain import DomainError
from shared.testkit.polling import eventually_async
from shared.trust.member_keys import MemberKeys

from .test_messaging_email import Inbox, link_in, smtp  # noqa: F401 - smtp is a fixture
from .test_messaging_gateway import community_of_three, served_gateway
from .test_messaging_notice_mail import opted_in, text_of
from .test_messaging_support import World, running_world


@pytest.fixture
async def world(
    nc: NATS,
    nats_url: str,
    tmp_path: Path,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> AsyncIterator[World]:
    _, port = smtp
    settings = MessagingSettings(public_base_url="http://gw.test")
    mailer = SmtpMailer("127.0.0.1", port, "news@river.example")
    async with running_world(nc, nats_url, tmp_path, mailer, settings) as started:
        yield started


GW = MessagingSettings(public_base_url="http://gw.test")  # links name it; the test asks its own port
BEA = {"email": "b•••@river.example", "name": "River Co-op"}


def unsubscribe_link(mail: EmailMessage) -> str:
    header = str(mail["List-Unsubscribe"])
    assert header.startswith("<"), header
    assert header.endswith(">"), header
    return header[1:-1]


def link_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def announce(world: World, inbox: Inbox, title: str, address: str) -> EmailMessage:
    await world.act(world.admin, "compose_announcement", {"title": title, "body": "See you there."})
    await world.handlers.drain()

    async def arrived() -> list[EmailMessage]:
        return [m for m in inbox.to(address) if m["Subject"] == title]

    [mail] = await eventually_async(arrived, within=60)
    return mail


async def token_for_bea(world: World, inbox: Inbox, title: str) -> str:
    """The token of the unsubscribe link in Bea's mail of a new announcement titled `title`."""
    return link_query(unsubscribe_link(await announce(world, inbox, title, "bea@river.example")))["token"]


async def confirm_latest(world: World, inbox: Inbox, keys: MemberKeys, address: str) -> None:
    """She opens the latest confirmation link mailed to `address`."""
    verification = [m for m in inbox.to(address) if m["Subject"].startswith("Confirm")][-1]
    await world.handlers.verify_email(VerifyEmail(world.community, keys.did, link_in(verification)["token"]))


async def test_every_mail_names_the_community_and_carries_her_own_one_click_link(
    world: World,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea = await opted_in(world, inbox, "Bea")
    cy = await opted_in(world, inbox, "Cy")
    [verification] = inbox.to("cy@river.example")
    assert verification["Subject"] == "Confirm your address for River Co-op"
    assert verification["From"] == "River Co-op <news@river.example>"

    mail = await announce(world, inbox, "AGM", "bea@river.example")
    assert mail["From"] == "River Co-op <news@river.example>"
    assert mail["List-Id"] == f"River Co-op <{world.community}.gw.test>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe_link(mail)
    assert link.startswith(f"http://gw.test/c/{world.community}/messaging/email/unsubscribe?")
    query = link_query(link)
    assert query["member"] == bea.did
    assert len(query["token"]) == 22  # 128 bits, base64url
    assert f"Stop all email from River Co-op: {link}" in text_of(mail)
    html = mail.get_body(("html",))
    assert html is not None
    assert "Stop all email from River Co-op" in html.get_content()
    # Each member's link is her own: Cy's token differs, and Bea's does not work for Cy.
    [cy_mail] = [m for m in inbox.to("cy@river.example") if m["Subject"] == "AGM"]
    assert link_query(unsubscribe_link(cy_mail))["token"] != query["token"]
    with pytest.raises(DomainError) as crossed:
        await world.handlers.email_link(EmailLink(world.community, cy.did, query["token"], confirm=True))
    assert (crossed.value.code, crossed.value.status) == ("invalid_link", 403)
    assert (await world.query(cy, "email_status"))["email"] == "cy@river.example"


async def test_opening_the_link_changes_nothing_posting_it_stops_all_mail_once(
    world: World,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea = await opted_in(world, inbox, "Bea")
    query = link_query(unsubscribe_link(await announce(world, inbox, "AGM", "bea@river.example")))
    token = query["token"]

    looked = await world.handlers.email_link(EmailLink(world.community, bea.did, token))
    assert looked == {
        "status": "subscribed",
        "email": "b•••@river.example",
        "name": "River Co-op",
        "changed": False,
    }
    assert (await world.query(bea, "email_status"))["email"] == "bea@river.example"

    for wrong in ("A" * 22, token[:-1] + ("A" if token[-1] != "A" else "B")):
        with pytest.raises(DomainError) as refused:
            await world.handlers.email_link(EmailLink(world.community, bea.did, wrong, confirm=True))
        assert refused.value.code == "invalid_link"
    assert (await world.query(bea, "email_status"))["email"] == "bea@river.example"

    stopped = await world.handlers.email_link(EmailLink(world.community, bea.did, token, confirm=True))
    assert stopped == {
        "status": "unsubscribed",
        "email": "b•••@river.example",
        "name": "River Co-op",
        "changed": True,
    }
    assert (await world.query(bea, "email_status"))["email"] is None
    again = await world.handlers.email_link(EmailLink(world.community, bea.did, token, confirm=True))
    assert (again["status"], again["changed"]) == ("unsubscribed", False)

    # Recorded in her log once, as an opt-out by the link (no statement: she signed nothing).
    events = list(world.handlers.app.repository.event_store.get(participant_id(world.community, bea.did)))
    assert [type(e) for e in events if isinstance(e, EmailOptedOut | EmailOptedOutByLink)] == [
        EmailOptedOutByLink
    ]

    sent = await world.act(world.admin, "compose_announcement", {"title": "Minutes", "body": "Attached."})
    assert sent["emailing"] == 0


async def test_a_link_from_before_she_asked_for_mail_again_no_longer_works(
    world: World,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea = await opted_in(world, inbox, "Bea")
    old = await token_for_bea(world, inbox, "AGM")
    await world.act(bea, "unsubscribe_email", {})  # stopped in the app, with her signature

    await world.act(bea, "subscribe_email", {"email": "bea@river.example"})
    await confirm_latest(world, inbox, bea, "bea@river.example")
    with pytest.raises(DomainError) as stale:
        await world.handlers.email_link(EmailLink(world.community, bea.did, old, confirm=True))
    assert stale.value.code == "invalid_link"
    assert (await world.query(bea, "email_status"))["email"] == "bea@river.example"

    fresh = await token_for_bea(world, inbox, "Minutes")
    assert fresh != old
    stopped = await world.handlers.email_link(EmailLink(world.community, bea.did, fresh, confirm=True))
    assert stopped["changed"] is True


async def test_a_suspended_member_may_still_stop_mail(
    world: World,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, _ = smtp
    bea = await opted_in(world, inbox, "Bea")
    token = await token_for_bea(world, inbox, "AGM")
    await world.membership_act(world.admin, "suspend", {"member": bea.did, "reason": "unpaid dues"})
    stopped = await world.handlers.email_link(EmailLink(world.community, bea.did, token, confirm=True))
    assert stopped["changed"] is True


async def test_through_the_gateway_a_person_gets_a_page_and_a_mail_program_one_click(
    nc: NATS,
    nats_url: str,
    tmp_path: Path,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp
    mailer = SmtpMailer("127.0.0.1", port, "news@river.example")
    async with (
        served_gateway(nc, nats_url, tmp_path, mailer=mailer, settings=GW) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        ada, bea, cy = await community_of_three(http)
        for person, address in ((bea, "bea@river.example"), (cy, "cy@river.example")):
            await person.act("subscribe_email", {"email": address})
            [verification] = inbox.to(address)
            link = link_in(verification)
            verified = await http.get(link["path"], params={"member": link["member"], "token": link["token"]})
            assert verified.status_code == 200, verified.text
        await ada.act("compose_announcement", {"title": "AGM", "body": "Agenda attached."})

        async def mails() -> list[EmailMessage]:
            found = [m for m in inbox.messages if m["Subject"] == "AGM"]
            return found if len(found) == 2 else []

        by_address = {m["To"]: m for m in await eventually_async(mails, within=60)}
        links = {a: urlsplit(unsubscribe_link(m)) for a, m in by_address.items()}
        bea_link = f"{links['bea@river.example'].path}?{links['bea@river.example'].query}"
        cy_link = f"{links['cy@river.example'].path}?{links['cy@river.example'].query}"

        # A person opens the link: a page with one button; nothing changes.
        page = await http.get(bea_link, headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "Stop all email from River Co-op" in page.text
        assert '<form method="post">' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert (await bea.get("/email")).json()["email"] == "bea@river.example"
        # She presses it (a form post from her browser).
        form = {"List-Unsubscribe": "One-Click"}
        done = await http.post(bea_link, data=form, headers={"Accept": "text/html"})
        assert done.status_code == 200
        assert "River Co-op sends no more email to b•••@river.example" in done.text
        assert (await bea.get("/email")).json()["email"] is None

        # A mail program's one-click POST (RFC 8058): JSON back, Cy's mail stops.
        clicked = await http.post(cy_link, content=b"List-Unsubscribe=One-Click", headers=_form)
        assert clicked.status_code == 200
        assert clicked.json() == {
            "status": "unsubscribed",
            "email": "c•••@river.example",
            "name": "River Co-op",
            "changed": True,
        }
        assert (await cy.get("/email")).json()["email"] is None

        # A forged link: a typed error for programs, a page for people; nothing changed.
        forged = cy_link.replace(link_query(cy_link)["token"], "A" * 22)
        refused = await http.post(forged, content=b"List-Unsubscribe=One-Click", headers=_form)
        assert (refused.status_code, refused.json()["error"]["type"]) == (403, "invalid_link")
        page = await http.get(forged, headers={"Accept": "text/html"})
        assert page.status_code == 403
        assert "This link did not work" in page.text
        short = await http.post(cy_link.split("token=")[0] + "token=short")
        assert short.status_code == 422


_form: dict[str, Any] = {"Content-Type": "application/x-www-form-urlencoded"}
