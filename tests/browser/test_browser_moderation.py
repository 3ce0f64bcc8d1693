"""Moderation in Chromium: a member flags a forum post, a moderator hides it from the queue with a
reason, the log shows the decision, its author appeals, and another moderator overturns it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from cos.demo import ADMINS, MEMBERS
from shared.trust.member_keys import MemberKeys
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore


def did_of(stack: Stack, name: str) -> str:
    return MemberKeys.from_phrase(stack.phrase(name)).did


def test_flag_hide_log_appeal_overturn(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    author, reporter, moderator, second = MEMBERS[1].name, MEMBERS[2].name, MEMBERS[0].name, ADMINS[1].name
    page = browser.page
    restore(page, stack, stack.phrase(author))
    page.goto(f"{stack.base}/app/#/forums?thread=welcome")
    page.get_by_label("Your reply").fill("Cheap watches, today only!")
    page.get_by_role("button", name="Sign and reply").click()
    expect(page.get_by_test_id("posts")).to_contain_text("Cheap watches")

    flagger = new_browser("reporter")
    restore(flagger.page, stack, stack.phrase(reporter))
    flagger.page.goto(f"{stack.base}/app/#/forums?thread=welcome")
    post = flagger.page.get_by_test_id("posts").locator("li", has_text="Cheap watches")
    post.get_by_text("Report").click()
    post.get_by_role("button", name="Flag").click()
    expect(post.locator("[role=alert]")).to_contain_text("give a reason")  # refused before signing
    post.get_by_label("Reason").fill("spam")
    post.get_by_role("button", name="Flag").click()
    expect(flagger.page.locator("#toast")).to_contain_text("Flagged")

    mod = new_browser("moderator")
    restore(mod.page, stack, stack.phrase(moderator))
    mod.page.goto(f"{stack.base}/app/#/moderation")
    flagged = mod.page.get_by_test_id("flag-queue").locator("li.card", has_text="spam")
    expect(flagged).to_be_visible()
    flagged.get_by_label("Reason").fill("Advertising is not allowed here")
    flagged.get_by_role("button", name="Hide").click()
    expect(mod.page.get_by_test_id("moderation-log")).to_contain_text("Advertising is not allowed here")
    mod.screenshot("queue-and-log")

    # The author reads the decision in the log and appeals it.
    page.goto(f"{stack.base}/app/#/moderation")
    entry = page.get_by_test_id("moderation-log").locator("li", has_text="Advertising is not allowed here")
    entry.get_by_role("button", name="Appeal").click()
    page.get_by_label("Why it should be reversed").fill("It was a joke among friends")
    page.get_by_role("button", name="File the appeal").click()
    expect(page.get_by_test_id("my-appeals")).to_contain_text("waiting")

    # Another moderator overturns it: the post is visible again.
    other = new_browser("second-moderator")
    restore(other.page, stack, stack.phrase(second))
    other.page.goto(f"{stack.base}/app/#/moderation")
    appeal = other.page.get_by_test_id("appeal-queue").locator("li", has_text="It was a joke among friends")
    appeal.get_by_label("Reason for your decision").fill("Fair enough")
    appeal.get_by_role("button", name="Overturn").click()
    expect(other.page.get_by_test_id("moderation-log")).to_contain_text("appeal_overturned")
    other.screenshot("overturned")

    appeals = ask(stack, "messaging", "appeals", {"community": "demo", "member": did_of(stack, author)})
    assert [a["decision"] for a in appeals["appeals"]] == ["overturned"]
    thread = ask(
        stack,
        "messaging",
        "thread",
        {"community": "demo", "member": did_of(stack, reporter), "thread": "welcome"},
    )
    assert [p["state"] for p in thread["posts"] if "Cheap watches" in p.get("body", "")] == ["visible"]
    for each in (browser, flagger, mod, other):
        assert each.errors == []


def test_a_channel_message_is_reported_and_hidden(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    """Chat messages carry the same tools as forum posts: a member reports one in a channel, a
    moderator hides it from the queue, and it is gone from the channel for everyone."""
    author, reporter, moderator = MEMBERS[1].name, MEMBERS[2].name, MEMBERS[0].name
    page = browser.page
    restore(page, stack, stack.phrase(author))
    page.goto(f"{stack.base}/app/#/chat?conversation=general")
    page.get_by_label("Message").fill("Buy followers at a discount!")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("messages")).to_contain_text("Buy followers")
    mine = page.get_by_test_id("messages").locator("li", has_text="Buy followers")
    expect(mine.get_by_text("Report")).to_have_count(0)  # nobody reports her own message

    flagger = new_browser("chat-reporter")
    restore(flagger.page, stack, stack.phrase(reporter))
    flagger.page.goto(f"{stack.base}/app/#/chat?conversation=general")
    message = flagger.page.get_by_test_id("messages").locator("li", has_text="Buy followers")
    message.get_by_text("Report").click()
    message.get_by_label("Reason").fill("spam in the channel")
    message.get_by_role("button", name="Flag").click()
    expect(flagger.page.locator("#toast")).to_contain_text("Flagged")

    mod = new_browser("chat-moderator")
    restore(mod.page, stack, stack.phrase(moderator))
    mod.page.goto(f"{stack.base}/app/#/moderation")
    flagged = mod.page.get_by_test_id("flag-queue").locator("li.card", has_text="spam in the channel")
    expect(flagged).to_contain_text("a message in # general")
    # She decides on what was said and by whom, without opening the channel; a visible message
    # offers no Restore, and bans name members and spaces, not DIDs to type.
    expect(flagged.locator("blockquote")).to_have_text("Buy followers at a discount!")
    expect(flagged).to_contain_text(f"by {author}")
    expect(flagged.get_by_role("button", name="Restore")).to_have_count(0)
    expect(mod.page.get_by_label("Member", exact=True).locator("option", has_text=author)).to_have_count(1)
    spaces = mod.page.get_by_label("Space", exact=True)
    expect(spaces.locator("option", has_text="Chat: # general")).to_have_count(1)
    flagged.get_by_label("Reason").fill("No advertising in #general")
    flagged.get_by_role("button", name="Hide").click()
    expect(mod.page.get_by_test_id("moderation-log")).to_contain_text("No advertising in #general")
    mod.screenshot("chat-message-hidden")

    # A fresh load of the channel (not a hash change racing the screen it replaces).
    flagger.page.reload()
    expect(flagger.page.get_by_test_id("messages")).to_contain_text("Fresh bread")
    expect(flagger.page.get_by_test_id("messages")).not_to_contain_text("Buy followers", timeout=15_000)
    listed = ask(
        stack,
        "messaging",
        "messages",
        {"community": "demo", "member": did_of(stack, reporter), "conversation": "general"},
    )
    assert not [m for m in listed["messages"] if "Buy followers" in m.get("body", "")]
    for each in (browser, flagger, mod):
        assert each.errors == []
