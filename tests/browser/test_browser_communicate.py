"""Communicate in Chromium: an admin announces to one segment (moderators), keeps a draft and sends
it later, schedules one and cancels it, and reads each sent announcement's figures; a member has
announcements mailed to her, proving her address by the link a real SMTP server received."""

from __future__ import annotations

import email
import email.policy
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from cos.demo import ADMINS, MEMBERS
from shared.trust.member_keys import MemberKeys
from tests.browser.conftest import Browser, eventually
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore

CLEO, DEV, EUNJI = MEMBERS  # Cleo Marsh is a moderator


def inbox_titles(stack: Stack, name: str) -> list[str]:
    did = MemberKeys.from_phrase(stack.phrase(name)).did
    inbox = ask(stack, "messaging", "inbox", {"community": "demo", "member": did, "limit": 200})
    return [item["title"] for item in inbox["announcements"]]


def pending(stack: Stack) -> list[dict[str, Any]]:
    did = MemberKeys.from_phrase(stack.phrase(ADMINS[0].name)).did
    listed: list[dict[str, Any]] = ask(
        stack, "messaging", "announcements", {"community": "demo", "member": did}
    )["pending"]
    return listed


def emails_sent(stack: Stack, title: str) -> int:
    """How many mails of the sent announcement `title` the outbox reports as accepted."""
    did = MemberKeys.from_phrase(stack.phrase(ADMINS[0].name)).did
    listed = ask(stack, "messaging", "announcements", {"community": "demo", "member": did})["sent"]
    return sum(int(s["email"]["sent"]) for s in listed if s["title"] == title)


def test_an_admin_announces_to_a_segment_keeps_a_draft_and_schedules(browser: Browser, stack: Stack) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(ADMINS[0].name))
    page.goto(f"{stack.base}/app/#/announcements")
    form = page.get_by_role("form", name="New announcement")

    # To the moderators only: a segment by role.
    form.get_by_label("Title", exact=True).fill("Moderators: new flag queue")
    form.get_by_label("Message", exact=True).fill("The queue now shows **who** flagged a post.")
    form.get_by_text("Audience: every member").click()
    form.get_by_role("group", name="Roles").get_by_label("moderator").check()
    expect(form.locator("summary")).to_have_text("Audience: roles: moderator")
    form.get_by_role("button", name="Sign and send").click()
    expect(page.locator("#toast")).to_contain_text("Announcement sent to 1 member.")
    sent = page.get_by_test_id("sent").locator("li").filter(has_text="Moderators: new flag queue")
    expect(sent).to_contain_text("to roles: moderator")
    expect(sent).to_contain_text("Reached 1 · read by 0")
    assert "Moderators: new flag queue" in inbox_titles(stack, CLEO.name)
    assert "Moderators: new flag queue" not in inbox_titles(stack, DEV.name)

    # A draft: nothing is delivered until she sends it.
    form = page.get_by_role("form", name="New announcement")
    form.get_by_label("Title", exact=True).fill("Draft: stocktake volunteers")
    form.get_by_label("Message", exact=True).fill("We need four people on Sunday.")
    form.get_by_label("When").select_option("draft")
    form.get_by_role("button", name="Sign and save the draft").click()
    draft = page.get_by_test_id("pending").locator("li").filter(has_text="Draft: stocktake volunteers")
    expect(draft).to_contain_text("draft")
    assert "Draft: stocktake volunteers" not in inbox_titles(stack, DEV.name)

    # Scheduled for tomorrow, then cancelled: it never goes out.
    form = page.get_by_role("form", name="New announcement")
    form.get_by_label("Title", exact=True).fill("Scheduled: shop closed Monday")
    form.get_by_label("Message", exact=True).fill("Closed for the bank holiday.")
    form.get_by_label("When").select_option("later")
    form.get_by_role("button", name="Sign and schedule").click()  # no time chosen yet
    expect(form.get_by_role("alert")).to_contain_text("Choose when to send it.")
    tomorrow = (datetime.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    form.get_by_label("Send at").fill(tomorrow.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Sign and schedule").click()
    scheduled = page.get_by_test_id("pending").locator("li").filter(has_text="Scheduled: shop closed Monday")
    expect(scheduled).to_contain_text("scheduled")
    [row] = [p for p in pending(stack) if p["title"] == "Scheduled: shop closed Monday"]
    assert datetime.fromisoformat(row["send_at"]).timestamp() == tomorrow.timestamp()
    scheduled.get_by_role("button", name="Cancel").click()
    expect(page.locator("#toast")).to_contain_text("Cancelled")
    expect(scheduled).to_have_count(0)
    assert "Scheduled: shop closed Monday" not in [p["title"] for p in pending(stack)]

    # The draft is sent now: every member has it.
    page.get_by_test_id("pending").locator("li").filter(has_text="Draft: stocktake volunteers").get_by_role(
        "button", name="Send now"
    ).click()
    expect(page.get_by_test_id("sent")).to_contain_text("Draft: stocktake volunteers")
    assert "Draft: stocktake volunteers" in inbox_titles(stack, DEV.name)
    browser.screenshot("outbox")
    page.get_by_test_id("sent").get_by_role("link", name="Moderators: new flag queue").click()
    expect(page.get_by_test_id("stats")).to_have_text("Reached 1 · read by 0")
    assert browser.errors == []


def _mails_to(stack: Stack, address: str) -> list[EmailMessage]:
    found = []
    for path in sorted((stack.data_dir / "mail").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if isinstance(message, EmailMessage) and message["To"] == address:
            found.append(message)
    return found


def _mail_to(stack: Stack, address: str) -> EmailMessage | None:
    return next(iter(_mails_to(stack, address)), None)


def _with_verified_email(page: Page, stack: Stack, name: str, address: str) -> Locator:
    """She asks for email in the app and opens the link mailed to her: her Email card, verified."""
    link = _ask_for_email(page, stack, name, address)
    with urllib.request.urlopen(link, timeout=10) as opened:
        assert json.loads(opened.read())["status"] == "verified"
    page.reload()
    return page.get_by_role("region", name="Email")


def _notice_mail(stack: Stack, address: str, notice: str, subject: str) -> EmailMessage:
    """The notice mail of that kind and subject to `address`, once the SMTP server has it (60 s)."""
    mail = eventually(
        lambda: next(
            (m for m in _mails_to(stack, address) if m["X-Notice"] == notice and m["Subject"] == subject),
            None,
        ),
        within=60,
    )
    if mail is None:
        raise AssertionError(f"no {notice} mail {subject!r} reached {address}")
    return mail


def _ask_for_email(page: Page, stack: Stack, name: str, address: str) -> str:
    """She asks for announcements at `address` in the app; the verification link mailed to it."""
    restore(page, stack, stack.phrase(name))
    page.goto(f"{stack.base}/app/#/announcements")
    card = page.get_by_role("region", name="Email")
    card.get_by_label("Your email address").fill(address)
    card.get_by_role("button", name="Send me the confirmation link").click()
    expect(page.get_by_test_id("email-status")).to_contain_text(
        f"Waiting for you to open the link we sent to {address}"
    )
    mail = _mail_to(stack, address)
    assert mail is not None
    body = mail.get_body(("plain",))
    assert body is not None
    link = re.search(r"http://\S+/email/verify\S+", body.get_content())
    assert link is not None
    return link.group(0)


def test_a_member_gets_announcements_by_email_after_proving_her_address(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    page = browser.page
    link = _ask_for_email(page, stack, EUNJI.name, "eunji@river.example")
    assert link.startswith(stack.base)
    # She opens the link from her mail in the browser: a page tells her it worked.
    opened = new_browser("mail-link")
    opened.page.goto(link)
    expect(opened.page.get_by_role("heading", level=1)).to_have_text("Your address is confirmed")
    expect(opened.page.locator("p")).to_contain_text("will also come to eunji@river.example")
    # The link works once: a second use is refused (JSON for a program).
    with pytest.raises(urllib.error.HTTPError) as again:
        urllib.request.urlopen(link, timeout=10)
    assert again.value.code == 403
    assert json.loads(again.value.read())["error"]["type"] == "invalid_verification"
    page.reload()
    expect(page.get_by_test_id("email-status")).to_have_text("Announcements also go to eunji@river.example.")

    admin = new_browser("admin")
    restore(admin.page, stack, stack.phrase(ADMINS[1].name))
    admin.page.goto(f"{stack.base}/app/#/announcements")
    form = admin.page.get_by_role("form", name="New announcement")
    form.get_by_label("Title", exact=True).fill("Seed library opens")
    form.get_by_label("Message", exact=True).fill("Bring **seeds**, take seeds.")
    form.get_by_role("button", name="Sign and send").click()
    sent = admin.page.get_by_test_id("sent").locator("li").filter(has_text="Seed library opens")
    expect(sent).to_be_visible()
    # The mail goes out in the background; the outbox shows it once it is reported.
    assert eventually(lambda: emails_sent(stack, "Seed library opens"), within=60) == 1
    admin.page.reload()
    expect(sent).to_contain_text("email sent 1, failed 0")

    # She stops the emails; the app says so, and the next announcement is not mailed.
    page.get_by_role("button", name="Stop emails").click()
    expect(page.get_by_role("button", name="Send me the confirmation link")).to_be_visible()
    assert browser.errors == []
    assert admin.errors == []
    assert opened.errors == []


def test_a_member_who_asked_for_email_is_mailed_when_a_poll_opens_and_the_link_opens_it(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    page = browser.page
    card = _with_verified_email(page, stack, DEV.name, "dev@river.example")
    expect(card.get_by_label("Poll mails")).to_have_value("normal")
    expect(card.get_by_label("Forum mails")).to_have_value("normal")
    card.get_by_label("Poll mails").select_option("watching")
    expect(page.locator("#toast")).to_contain_text("Poll mails: saved")
    page.reload()
    expect(page.get_by_role("region", name="Email").get_by_label("Poll mails")).to_have_value("watching")

    admin = new_browser("admin")
    restore(admin.page, stack, stack.phrase(ADMINS[1].name))
    admin.page.goto(f"{stack.base}/app/#/polls")
    form = admin.page.get_by_role("form", name="Start a poll")
    form.get_by_label("Question").fill("Open on Sundays?")
    form.get_by_label("Kind").select_option("proposal")
    form.get_by_role("button", name="Sign and start the poll").click()
    expect(admin.page.get_by_role("heading", level=1)).to_have_text("Open on Sundays?")

    # Governance stores the notice; messaging's worker mails it.
    mail = _notice_mail(stack, "dev@river.example", "poll_opened", "Poll open: Open on Sundays?")
    text = mail.get_body(("plain",))
    assert text is not None
    poll_link = re.search(r"http://\S+/app/#/polls\?\S+", text.get_content())
    assert poll_link is not None
    assert poll_link.group(0).startswith(stack.base)
    page.goto(poll_link.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Open on Sundays?")
    assert browser.errors == []
    assert admin.errors == []


def test_a_private_message_left_unread_is_mailed_without_its_text_and_the_link_opens_it(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    page = browser.page
    card = _with_verified_email(page, stack, CLEO.name, "cleo@river.example")
    expect(card.get_by_label("Chat mails")).to_have_value("normal")
    expect(card).to_contain_text("Forum and chat mails wait 2 seconds and go only if you have not read them")

    sender = new_browser("sender")
    restore(sender.page, stack, stack.phrase(ADMINS[1].name))
    sender.page.goto(f"{stack.base}/app/#/chat")
    sender.page.get_by_label("Message a member").select_option(label=CLEO.name)
    sender.page.get_by_role("button", name="Start").click()
    expect(sender.page.get_by_role("heading", level=1)).to_have_text(f"Chat with {CLEO.name}")
    draft = sender.page.get_by_label("Message", exact=True)
    draft.fill("Could you swap shifts with me on Friday?")
    sender.page.get_by_role("button", name="Send").click()
    expect(sender.page.get_by_test_id("messages")).to_contain_text("Could you swap shifts with me on Friday?")

    # Stored as a notice; mailed once it has waited two seconds unread.
    subject = f"{ADMINS[1].name} sent a new message to you"
    mail = _notice_mail(stack, "cleo@river.example", "chat_message", subject)
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "swap shifts" not in text  # end-to-end encrypted: the server could not quote it
    chat_link = re.search(r"http://\S+/app/#/chat\?\S+", text)
    assert chat_link is not None
    page.goto(chat_link.group(0))
    expect(page.get_by_test_id("messages")).to_contain_text("Could you swap shifts with me on Friday?")

    page.goto(f"{stack.base}/app/#/announcements")
    page.get_by_role("button", name="Stop emails").click()  # as she found it, for the other tests
    expect(page.get_by_role("button", name="Send me the confirmation link")).to_be_visible()
    assert browser.errors == []
    assert sender.errors == []


def test_a_member_chooses_a_weekly_summary_in_her_own_time_and_the_service_keeps_it_in_utc(
    browser: Browser, stack: Stack
) -> None:
    page = browser.page
    # Her device is in Kolkata (UTC+05:30): the times offered are her half hours, exactly.
    cdp = browser.context.new_cdp_session(page)
    cdp.send("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Kolkata"})
    cdp.send("Emulation.setLocaleOverride", {"locale": "en-GB"})
    name = ADMINS[0].name
    card = _with_verified_email(page, stack, name, "ada@river.example")
    summary = card.get_by_role("form", name="Summary by email")
    often = summary.get_by_label("Summary of what I have not read")
    expect(often).to_have_value("off")
    expect(summary.get_by_label("At (your time)")).to_be_hidden()
    often.select_option("weekly")
    summary.get_by_label("At (your time)").select_option(label="01:30")
    summary.get_by_label("On", exact=True).select_option(label="Friday")
    summary.get_by_role("button", name="Save summary").click()
    expect(page.locator("#toast")).to_contain_text("Summary by email every week at 01:30 on Fridays.")
    # Friday 01:30 in Kolkata is Thursday 20:00 UTC: that is what the service keeps.
    did = MemberKeys.from_phrase(stack.phrase(name)).did
    status = ask(stack, "messaging", "email_status", {"community": "demo", "member": did})
    kept = {k: status["digest"][k] for k in ("frequency", "hour", "weekday")}
    assert kept == {"frequency": "weekly", "hour": 20, "weekday": 3}
    page.reload()
    summary = page.get_by_role("region", name="Email").get_by_role("form", name="Summary by email")
    expect(summary.get_by_label("Summary of what I have not read")).to_have_value("weekly")
    expect(summary.get_by_label("At (your time)").locator("option:checked")).to_have_text("01:30")
    expect(summary.get_by_label("On", exact=True).locator("option:checked")).to_have_text("Friday")
    summary.get_by_label("Summary of what I have not read").select_option("off")
    summary.get_by_role("button", name="Save summary").click()
    expect(page.locator("#toast")).to_contain_text("No summaries by email.")
    page.get_by_role("button", name="Stop emails").click()  # as she found it, for the other tests
    expect(page.get_by_role("button", name="Send me the confirmation link")).to_be_visible()
    assert browser.errors == []


def _announce(page: Page, title: str) -> None:
    form = page.get_by_role("form", name="New announcement")
    form.get_by_label("Title", exact=True).fill(title)
    form.get_by_label("Message", exact=True).fill("Open on Saturday from ten.")
    form.get_by_role("button", name="Sign and send").click()
    expect(page.get_by_test_id("sent").locator("li").filter(has_text=title)).to_be_visible()


def _mail_titled(stack: Stack, address: str, subject: str) -> EmailMessage:
    mail = eventually(
        lambda: next((m for m in _mails_to(stack, address) if m["Subject"] == subject), None), within=60
    )
    if mail is None:
        raise AssertionError(f"no mail {subject!r} reached {address}")
    return mail


def test_one_click_in_a_mail_stops_email_and_a_mailbox_that_is_gone_is_shown_in_the_app(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    page = browser.page
    ben = ADMINS[1].name
    _with_verified_email(page, stack, ben, "ben@river.example")
    _announce(page, "Tool library opens")
    mail = _mail_titled(stack, "ben@river.example", "Tool library opens")
    assert str(mail["From"]).startswith("Riverside Food Co-op <")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(mail["List-Unsubscribe"]).strip("<>")
    assert link.startswith(f"{stack.base}/c/demo/messaging/email/unsubscribe?")

    # He opens the link from his mail: a page asks first (opening changes nothing), one button stops it.
    opened = new_browser("unsubscribe-link")
    opened.page.goto(link)
    expect(opened.page.get_by_role("heading", level=1)).to_have_text("Stop email?")
    expect(opened.page.locator("p").first).to_contain_text("b•••@river.example")
    page.reload()
    expect(page.get_by_test_id("email-status")).to_have_text("Announcements also go to ben@river.example.")
    opened.page.get_by_role("button", name="Stop all email from Riverside Food Co-op").click()
    expect(opened.page.get_by_role("heading", level=1)).to_have_text("No more email")
    page.reload()
    expect(page.get_by_role("button", name="Send me the confirmation link")).to_be_visible()

    # A later address whose mailbox is gone: the first mail refused for good stops mail, and the
    # app tells him what the server said.
    _with_verified_email(page, stack, ben, "ben.old@river.example")
    (stack.data_dir / "mail" / "gone").write_text("ben.old@river.example\n")
    _announce(page, "Tool library: new drills")
    # The mail goes out in the background; the refusal is on his record once it is reported.
    did = MemberKeys.from_phrase(stack.phrase(ben)).did

    def refused() -> str | None:
        status = ask(stack, "messaging", "email_status", {"community": "demo", "member": did})
        return (status["bounced"] or {}).get("email")

    assert eventually(refused, within=60) == "ben.old@river.example"
    page.reload()
    bounced = page.get_by_test_id("email-bounced")
    expect(bounced).to_contain_text("Mail to ben.old@river.example was refused by its mail server")
    expect(bounced).to_contain_text("550 5.1.1 mailbox unavailable")
    expect(page.get_by_role("button", name="Send me the confirmation link")).to_be_visible()
    browser.screenshot("email-bounced")
    assert browser.errors == []
    assert opened.errors == []
