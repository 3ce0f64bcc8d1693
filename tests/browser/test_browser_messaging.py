"""Communicate and Discuss in Chromium: a member replies in a forum thread and posts in the open
channel, a second member sees the reply arrive live; an admin announces and a member reads it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from cos.demo import ADMINS, MEMBERS
from shared.trust.member_keys import MemberKeys
from tests.browser.conftest import Browser, live_stream_opened
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore


def test_members_post_in_the_forum_and_the_channel(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(MEMBERS[0].name))
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Forums", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forums")
    page.get_by_role("link", name="General", exact=True).click()
    page.get_by_role("link", name="Welcome! Introduce yourself").click()
    expect(page.get_by_test_id("posts")).to_contain_text("welcome to the co-op's own space")

    other = new_browser("reader")
    restore(other.page, stack, stack.phrase(MEMBERS[2].name))
    with live_stream_opened(other):  # a reply from now on reaches her open thread
        other.page.goto(f"{stack.base}/app/#/forums?thread=welcome")
        expect(other.page.get_by_test_id("posts")).to_contain_text("Cleo here")

    page.get_by_label("Your reply").fill("The **Thursday** order now takes oat milk too.")
    page.get_by_role("button", name="Sign and reply").click()
    expect(page.get_by_test_id("posts").locator("strong", has_text="Thursday")).to_be_visible()
    browser.screenshot("forum-reply")
    # The reader's open thread catches the reply from the live stream, no reload.
    expect(other.page.get_by_test_id("posts")).to_contain_text("now takes oat milk too", timeout=15_000)
    other.screenshot("forum-live")

    thread = ask(
        stack,
        "messaging",
        "thread",
        {"community": "demo", "member": stack.demo["members"][2], "thread": "welcome"},
    )
    assert any("oat milk" in post.get("body", "") for post in thread["posts"])

    page.goto(f"{stack.base}/app/#/chat")
    page.get_by_role("link", name="# general").click()
    expect(page.get_by_test_id("messages")).to_contain_text("Fresh bread is in")
    page.get_by_label("Message").fill("Saving a loaf for me? <script>alert(1)</script>")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("messages")).to_contain_text("Saving a loaf for me?")
    assert page.locator("[data-testid=messages] script").count() == 0
    browser.screenshot("channel")
    assert browser.errors == []
    assert other.errors == []


def test_an_admin_announces_and_members_read_it(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(ADMINS[1].name))
    page.goto(f"{stack.base}/app/#/announcements")
    page.get_by_label("Title", exact=True).fill("Bulk order closes early")
    page.get_by_label("Message", exact=True).fill("This week the bulk order closes on **Wednesday** at noon.")
    page.get_by_role("button", name="Sign and send", exact=True).click()
    # In her inbox, and in the outbox's sent list with its figures.
    expect(page.get_by_role("link", name="Bulk order closes early")).to_have_count(2)
    expect(page.get_by_test_id("sent").locator("li").first).to_contain_text("Reached")
    browser.screenshot("announcement-sent")
    # The welcome for members admitted from now on, set by the admin on the same screen.
    page.get_by_label("Welcome message").fill("Glad you are here: the **bulk order** runs weekly.")
    page.get_by_role("button", name="Sign and set the welcome").click()
    expect(page.locator("#toast")).to_contain_text("Welcome message set")

    member = new_browser("member")
    restore(member.page, stack, stack.phrase(MEMBERS[1].name))
    member.page.goto(f"{stack.base}/app/#/announcements")
    expect(member.page.get_by_role("link", name="Spring general assembly on 14 March")).to_be_visible()
    member.page.get_by_role("link", name="Bulk order closes early").click()
    expect(member.page.get_by_role("heading", level=1)).to_have_text("Bulk order closes early")
    expect(member.page.locator("article strong", has_text="Wednesday")).to_be_visible()
    member.screenshot("announcement-read")
    did = MemberKeys.from_phrase(stack.phrase(MEMBERS[1].name)).did
    inbox = ask(stack, "messaging", "inbox", {"community": "demo", "member": did})["announcements"]
    assert [item["read"] for item in inbox if item["title"] == "Bulk order closes early"] == [True]
    assert browser.errors == []
    assert member.errors == []
