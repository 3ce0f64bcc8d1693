"""What members meet between the big flows: an invite opened by the wrong person, a pending
application, signing out, a live conversation and the assistant's sources, in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from cos.demo import ADMINS, MEMBERS
from tests.browser.conftest import Browser, eventually, live_stream_opened
from tests.browser.stack import Stack
from tests.browser.test_browser_decide import did_of
from tests.browser.test_browser_onboarding import ask, onboard, restore, start_poll


def test_an_invite_opened_by_a_member_stays_unused_for_the_person_it_is_for(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    admin = browser.page
    restore(admin, stack, stack.phrase(ADMINS[1].name))
    admin.goto(f"{stack.base}/app/#/invite")
    admin.get_by_label("Their name").fill("Wes Tanaka")
    admin.get_by_role("button", name="Create invite link").click()
    link = admin.get_by_test_id("invite-link").input_value()
    invite = link.split("i=")[1].split("&")[0]

    admin.goto(link)  # her own link: nothing to accept
    expect(admin.get_by_role("heading", level=1)).to_have_text("This is your own invite")
    expect(admin.get_by_text("You made this link for Wes Tanaka")).to_be_visible()

    member = new_browser("forwarded-to")
    restore(member.page, stack, stack.phrase(MEMBERS[1].name))
    member.page.goto(link)
    expect(member.page.get_by_role("heading", level=1)).to_have_text(
        "You are already a member of Riverside Food Co-op"
    )
    expect(member.page.get_by_role("button", name="Join with this device's key")).to_have_count(0)
    member.screenshot("invite-already-a-member")
    assert (
        ask(stack, "identity", "get_invite", {"community": "demo", "invite": invite})["status"] == "pending"
    )

    # The person it was for still joins with it. Without an admin's invitation she applies, and
    # until she is admitted the app says so instead of showing empty or refused modules.
    newcomer = new_browser("wes")
    did, _ = onboard(newcomer, link)
    page = newcomer.page
    page.goto(f"{stack.base}/app/#/home")
    expect(page.get_by_test_id("standing-notice")).to_contain_text("waiting for an admin to approve it")
    expect(page.get_by_text("No announcements yet.")).to_have_count(0)
    page.goto(f"{stack.base}/app/#/polls")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not yet")
    newcomer.screenshot("application-pending")
    assert ask(stack, "membership", "member", {"community": "demo", "member": did})["standing"] == "applied"

    # The admin turns the application down (which leaves the demo's applicants as they were).
    admin.goto(f"{stack.base}/app/#/admin?tab=applicants")
    admin.locator(".member", has_text="Wes Tanaka").get_by_role("button", name="Reject").click()
    expect(admin.locator("#toast")).to_contain_text("Wes Tanaka: rejected.")
    assert ask(stack, "membership", "member", {"community": "demo", "member": did})["standing"] == "rejected"
    for each in (browser, member, newcomer):
        assert each.errors == []


def test_signing_out_keeps_her_out_until_she_signs_in_again(browser: Browser, stack: Stack) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(MEMBERS[2].name))
    page.goto(f"{stack.base}/app/#/device")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signed out")
    expect(page.locator("#nav")).to_be_hidden()
    page.goto(f"{stack.base}/app/#/polls")  # no silent sign-in behind her back
    expect(page.get_by_role("heading", level=1)).to_have_text("Signed out")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signed out")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Polls")
    assert browser.errors == []


def open_general(page: Page, stack: Stack, member: str) -> str:
    """She restores her key and opens the community's #general channel; its conversation id."""
    restore(page, stack, stack.phrase(member))
    page.goto(f"{stack.base}/app/#/chat")
    page.get_by_role("link", name="# general").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("# general")
    return page.url.split("conversation=")[1]


def test_a_live_conversation_keeps_her_draft_and_is_read_when_open(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    writer, reader = MEMBERS[0].name, ADMINS[0].name
    page = browser.page
    conversation = open_general(page, stack, writer)

    other = new_browser("chat-reader")
    restore(other.page, stack, stack.phrase(reader))
    with live_stream_opened(other):  # a message from now on reaches her open conversation
        other.page.goto(f"{stack.base}/app/#/chat?conversation={conversation}")
        expect(other.page.get_by_test_id("messages")).to_be_visible()
    draft = other.page.get_by_label("Message")
    draft.click()
    draft.fill("Half a thought")

    composer = page.get_by_label("Message")
    composer.fill("Oat milk is back in stock")
    composer.press("Enter")  # Enter sends; Shift+Enter would start a new line
    expect(page.get_by_test_id("messages")).to_contain_text("Oat milk is back in stock")
    expect(composer).to_have_value("")
    expect(composer).to_be_focused()

    # Her screen takes the message in without losing what she is typing or where she types it.
    expect(other.page.get_by_test_id("messages")).to_contain_text("Oat milk is back in stock", timeout=15_000)
    expect(draft).to_have_value("Half a thought")
    expect(draft).to_be_focused()
    other.screenshot("chat-live-draft")

    # She read it where she was: her unread count for the channel is back to nothing.
    def unread() -> int:
        listed = ask(
            stack, "messaging", "conversations", {"community": "demo", "member": did_of(stack, reader)}
        )
        return int(next(c["unread"] for c in listed["conversations"] if c["conversation"] == conversation))

    assert eventually(lambda: unread() == 0), f"{unread()} still unread"
    other.page.goto(f"{stack.base}/app/#/chat")
    general = other.page.locator("li", has=other.page.get_by_role("link", name="# general"))
    expect(general).not_to_contain_text("new")
    assert browser.errors == []
    assert other.errors == []


def test_an_answers_source_link_shows_the_source_and_keeps_the_answer(browser: Browser, stack: Stack) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(MEMBERS[1].name))
    page.goto(f"{stack.base}/app/#/assistant")
    expect(page.get_by_role("heading", name="Add a document")).to_have_count(0)  # only admins may
    page.get_by_label("Your question").fill("When is the spring general assembly?")
    page.get_by_role("button", name="Ask").click()
    answer = page.get_by_test_id("answer")
    expect(answer).to_be_visible(timeout=30_000)
    first = answer.locator("a.cite").first
    expect(first).to_be_visible()
    before = page.url
    first.click()
    assert page.url == before
    expect(page.get_by_role("heading", level=1)).to_have_text("Assistant")
    expect(answer).to_be_visible()
    expect(answer.locator("ol.sources li").first).to_be_focused()
    assert browser.errors == []


def test_a_file_that_is_no_credential_is_named_as_such(browser: Browser, stack: Stack) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(MEMBERS[1].name))
    page.goto(f"{stack.base}/app/#/credentials")
    chooser = page.get_by_label("Check a credential file")
    chooser.set_input_files({"name": "empty.json", "mimeType": "application/json", "buffer": b"{}"})
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_contain_text("Not valid")
    expect(verdict).to_contain_text("not a W3C verifiable credential")
    expect(verdict).not_to_contain_text("undefined")
    chooser.set_input_files(
        {"name": "notes.json", "mimeType": "application/json", "buffer": b"shopping list"}
    )
    expect(page.get_by_role("alert")).to_contain_text("the file is not JSON")
    assert browser.errors == []


def test_a_phrase_of_no_member_says_so_and_fits_a_phone(browser: Browser, stack: Stack) -> None:
    from mnemonic import Mnemonic

    page = browser.page
    page.goto(f"{stack.base}/app/#/restore?c=demo")
    page.get_by_label("Recovery phrase (24 words)").fill(Mnemonic("english").generate(256))
    page.get_by_role("button", name="Restore").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("is not a member of Riverside Food Co-op")
    expect(alert).not_to_contain_text("did:key:")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("Community").fill("")
    page.get_by_role("button", name="Restore").click()
    expect(alert).to_contain_text("Type your community's short name")
    assert browser.errors == []


def test_a_long_unbroken_headline_does_not_widen_the_phone_page(browser: Browser, stack: Stack) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(MEMBERS[1].name))
    page.goto(f"{stack.base}/app/#/forums?category=general")
    page.get_by_label("Title").fill("W" * 200)
    page.get_by_label("Message").fill("One word that never ends.")
    page.get_by_role("button", name="Sign and post").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("W" * 200)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    reply = page.get_by_label("Your reply")
    reply.fill("And a reply to it")
    page.get_by_role("button", name="Sign and reply").click()
    expect(page.get_by_test_id("posts")).to_contain_text("And a reply to it")
    expect(reply).to_be_focused()  # she can write the next one at once
    assert browser.errors == []


def test_a_ranked_poll_is_started_and_voted_from_the_app(browser: Browser, stack: Stack) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(ADMINS[0].name))
    poll = start_poll(page, stack, "Which stall layout?", "ranked", "Horseshoe\nRows\nCircle")
    page.get_by_role("button", name="Sign and cast my vote").click()  # nothing ranked yet
    expect(page.get_by_role("alert")).to_contain_text("Number at least one option")
    # Before anyone votes, everyone on the roll is listed as not voted yet, by name.
    expect(page.get_by_test_id("not-voted")).to_contain_text(MEMBERS[0].name)
    page.get_by_label("Circle").select_option("1")
    page.get_by_label("Horseshoe").select_option("2")
    page.get_by_label("Your reason (optional)").fill("A circle keeps the aisles clear.")
    page.get_by_role("button", name="Sign and cast my vote").click()
    expect(page.get_by_test_id("my-ballot")).to_contain_text("1. Circle, 2. Horseshoe")
    # Her position, with her reason, is on the poll for everyone; she is off the not-voted list.
    stance = page.get_by_test_id("positions").locator("li")
    expect(stance).to_have_count(1)
    expect(stance).to_contain_text(f"{ADMINS[0].name}: 1. Circle, 2. Horseshoe")
    expect(stance.locator("blockquote")).to_have_text("A circle keeps the aisles clear.")
    expect(page.get_by_test_id("not-voted")).not_to_contain_text(ADMINS[0].name)
    expect(page.get_by_label("Your reason (optional)")).to_have_value("A circle keeps the aisles clear.")
    expect(page.get_by_label("Circle")).to_have_value("1")  # the form shows her ranking as she left it
    expect(page.get_by_label("Horseshoe")).to_have_value("2")
    expect(page.get_by_label("Rows")).to_have_value("")
    browser.screenshot("poll-positions")
    ballots = ask(stack, "governance", "results", {"community": "demo", "poll": poll})
    assert ballots["voted"] == 1
    board = ask(stack, "governance", "board", {"community": "demo", "poll": poll})
    assert [b["reason"] for b in board["ballots"]] == ["A circle keeps the aisles clear."]

    # Her poll stays open three days longer: signed, and the page shows the new close.
    before = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})["closes_at"]
    extend = page.get_by_role("form", name="Extend the poll")
    extend.get_by_label("Extend by (days)").fill("3")
    extend.get_by_role("button", name="Sign and extend").click()
    expect(page.get_by_text("Open until")).to_be_visible()
    after = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})["closes_at"]
    moved = datetime.fromisoformat(after) - datetime.fromisoformat(before)
    assert moved == timedelta(days=3)
    assert browser.errors == []
