"""Discuss in Chromium: a thread as members expect of a forum. A member starts one; another finds it
by search, reacts, quotes it and mentions a third, who is notified; the author edits his post
(its history shows both versions) and marks the reply as the answer; a moderator pins the thread;
members choose how much they hear of it. Every act is checked on the bus as well."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from cos.demo import MEMBERS
from shared.trust.member_keys import MemberKeys
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore

CLEO, DEV, EUNJI = MEMBERS  # Cleo Marsh is a moderator


def did_of(stack: Stack, name: str) -> str:
    return MemberKeys.from_phrase(stack.phrase(name)).did


def thread_of(stack: Stack, name: str, thread: str) -> Any:
    query = {"community": "demo", "member": did_of(stack, name), "thread": thread}
    return ask(stack, "messaging", "thread", query)


def test_a_thread_with_search_reactions_quotes_mentions_edits_and_an_answer(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    author = browser.page
    restore(author, stack, stack.phrase(DEV.name))
    author.goto(f"{stack.base}/app/#/forums?category=general")
    author.get_by_label("Title").fill("Where do the bulk porridge oats go?")
    author.get_by_label("Message").fill(
        "The new **porridge** sacks arrive Friday.\n\nShelf space is tight, so ideas welcome."
    )
    author.get_by_role("button", name="Sign and post").click()
    expect(author.get_by_role("heading", level=1)).to_have_text("Where do the bulk porridge oats go?")
    thread = author.url.split("thread=")[1]

    # Another member finds it by searching the forums.
    reader = new_browser("reader")
    page = reader.page
    restore(page, stack, stack.phrase(EUNJI.name))
    page.goto(f"{stack.base}/app/#/forums")
    page.get_by_label("Search the forums").fill("porridge")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_test_id("search-results")
    expect(results).to_contain_text("The new **porridge** sacks arrive Friday.")
    results.get_by_role("link", name="Where do the bulk porridge oats go?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Where do the bulk porridge oats go?")

    # She reacts, and takes it back and gives another: one signed reaction each time.
    opening = page.get_by_test_id("posts").locator("li.post").first
    opening.get_by_role("button", name="🎉").click()
    expect(opening.get_by_role("button", name="🎉 1")).to_have_attribute("aria-pressed", "true")
    opening.get_by_role("button", name="🎉 1").click()
    expect(opening.get_by_role("button", name="🎉", exact=True)).to_have_attribute("aria-pressed", "false")
    opening.get_by_role("button", name="👍").click()
    expect(opening.get_by_role("button", name="👍 1")).to_be_visible()

    # She quotes its first paragraph and mentions the moderator by name.
    opening.get_by_role("button", name="Quote").click()
    expect(page.get_by_test_id("quoting")).to_contain_text("Quoting Dev Patel")
    page.get_by_label("Your reply").fill("Under the till, @Cleo Marsh can you check it fits?")
    page.get_by_role("button", name="Sign and reply").click()
    replied = page.get_by_test_id("posts").locator("li.post").nth(1)
    expect(replied).to_contain_text("Under the till")
    expect(replied.locator("blockquote")).to_contain_text("Dev Patel wrote:")
    expect(page.get_by_test_id("quoting")).to_be_empty()
    reader.screenshot("thread-quote-reactions")

    seen = thread_of(stack, EUNJI.name, thread)
    first, reply = seen["posts"]
    assert (first["reactions"], first["mine"]) == ({"👍": 1}, ["👍"])
    assert reply["quote"]["post"] == first["post"]
    assert reply["quote"]["excerpt"] == "The new **porridge** sacks arrive Friday."
    assert reply["mentions"] == [did_of(stack, CLEO.name)]

    # She watches the thread from now on.
    page.get_by_label("Notify me about this thread").select_option("watching")
    expect(page.get_by_text("Notifications for this thread: watching.")).to_be_visible()
    assert thread_of(stack, EUNJI.name, thread)["level"] == "watching"

    # The moderator is told she was mentioned, and pins the thread.
    moderator = new_browser("moderator")
    restore(moderator.page, stack, stack.phrase(CLEO.name))
    moderator.page.goto(f"{stack.base}/app/#/forums")
    told = moderator.page.get_by_test_id("notifications")
    expect(told).to_contain_text("Eun-ji Park mentioned you in Where do the bulk porridge oats go?")
    told.get_by_role("link", name="Where do the bulk porridge oats go?").click()
    expect(moderator.page.locator("li.post.focused")).to_contain_text("Under the till")
    moderator.page.get_by_role("button", name="Pin to the top").click()
    expect(moderator.page.get_by_role("button", name="Unpin")).to_be_visible()
    assert thread_of(stack, CLEO.name, thread)["pinned"] is True

    # The author edits his post; its history keeps both versions. He marks the reply the answer.
    author.reload()
    own = author.get_by_test_id("posts").locator("li.post").first
    own.get_by_role("button", name="Edit").click()
    author.get_by_role("button", name="Sign and save the edit").click()  # nothing changed yet
    expect(author.get_by_role("alert")).to_contain_text("Nothing changed.")
    edited = "The new **porridge** sacks arrive Friday.\n\nUpdate: two sacks, not three."
    author.get_by_label("Your post").fill(edited)
    author.get_by_role("button", name="Sign and save the edit").click()
    expect(own).to_contain_text("Update: two sacks, not three.")
    expect(own).not_to_contain_text("null")  # his own post has no report box, and no stray text
    own.get_by_text("edited: show earlier versions").click()
    versions = own.get_by_test_id("versions")
    expect(versions.locator("li")).to_have_count(2)
    expect(versions.locator("li").first).to_contain_text("Shelf space is tight")
    answer = author.get_by_test_id("posts").locator("li.post").nth(1)
    answer.get_by_role("button", name="Mark as the answer").click()
    expect(answer).to_contain_text("answer")
    expect(author.locator("h1 + p")).to_contain_text("resolved")
    browser.screenshot("thread-answered")
    final = thread_of(stack, DEV.name, thread)
    assert (final["resolved"], final["answer"]) == (True, reply["post"])
    history = ask(stack, "messaging", "post_history", {
        "community": "demo", "member": did_of(stack, DEV.name), "post": first["post"]})  # fmt: skip
    assert [v["body"].endswith("not three.") for v in history["versions"]] == [False, True]

    # She watches the thread, so the author's next reply reaches her notifications.
    author.get_by_label("Your reply").fill("Thanks, done.")
    author.get_by_role("button", name="Sign and reply").click()
    expect(author.get_by_test_id("posts")).to_contain_text("Thanks, done.")
    page.goto(f"{stack.base}/app/#/forums")
    told = page.get_by_test_id("notifications")
    expect(told).to_contain_text("Dev Patel posted in Where do the bulk porridge oats go?")

    # Unpinned again, so the demo's forum keeps its order for the other tests.
    moderator.page.get_by_role("button", name="Unpin").click()
    expect(moderator.page.get_by_role("button", name="Pin to the top")).to_be_visible()
    assert browser.errors == []
    assert reader.errors == []
    assert moderator.errors == []
