"""A member votes in the demo's open poll (the ballot signed in her browser) and asks the assistant
about the community's documents; an admin starts a poll. In Chromium, phone-sized."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from cos.demo import ADMINS, MEMBERS
from shared.trust.member_keys import MemberKeys
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore, start_poll


def test_a_member_votes_by_signing_in_the_browser_and_asks_the_assistant(
    browser: Browser, stack: Stack
) -> None:
    page = browser.page
    member = MEMBERS[1]
    restore(page, stack, stack.phrase(member.name))
    expect(page.get_by_role("heading", name="Polls")).to_be_visible()
    browser.screenshot("home-with-modules")

    page.get_by_role("link", name="Which day should the Saturday market move to?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Which day should the Saturday market move to?")
    page.get_by_label("Sunday morning").check()
    page.get_by_role("button", name="Sign and cast my vote").click()
    expect(page.get_by_test_id("my-ballot")).to_contain_text("Sunday morning")
    browser.screenshot("voted")

    did = did_of(stack, member.name)
    board = ask(stack, "governance", "board", {"community": "demo", "poll": "market-day"})
    mine = [ballot for ballot in board["ballots"] if ballot["voter"] == did]
    assert [ballot["choice"] for ballot in mine] == [[2]]

    # She changes her mind: the new signed ballot replaces the old one, never adds a second.
    page.get_by_label("Friday evening").check()
    page.get_by_role("button", name="Change my vote").click()
    expect(page.get_by_test_id("my-ballot")).to_contain_text("Friday evening")
    board = ask(stack, "governance", "board", {"community": "demo", "poll": "market-day"})
    assert [b["choice"] for b in board["ballots"] if b["voter"] == did] == [[0]]

    page.goto(f"{stack.base}/app/#/assistant")
    page.get_by_label("Your question").fill("When is the shop open on Sunday?")
    page.get_by_role("button", name="Ask").click()
    answer = page.get_by_test_id("answer")
    expect(answer).to_contain_text("Sunday 10:00 to 14:00")
    expect(answer.locator(".sources")).to_contain_text("Member handbook")
    browser.screenshot("assistant")
    assert browser.errors == []


def did_of(stack: Stack, name: str) -> str:
    return MemberKeys.from_phrase(stack.phrase(name)).did


def test_an_admin_starts_a_poll_from_the_app(browser: Browser, stack: Stack) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(ADMINS[1].name))
    poll = start_poll(page, stack, "Should we stock oat milk in bulk?", "proposal")
    page.get_by_role("button", name="Sign and cast my vote").click()  # nothing chosen yet
    expect(page.get_by_role("alert")).to_contain_text("Choose one option first.")
    page.get_by_label("agree", exact=True).check()
    page.get_by_role("button", name="Sign and cast my vote").click()
    expect(page.get_by_test_id("my-ballot")).to_contain_text("agree")
    polls = ask(stack, "governance", "list_polls", {"community": "demo"})["polls"]
    assert [(p["title"], p["kind"]) for p in polls if p["poll"] == poll] == [
        ("Should we stock oat milk in bulk?", "proposal")
    ]
    browser.screenshot("admin-poll")
    assert browser.errors == []


def test_an_admin_creates_a_forum_for_some_roles_and_members_see_only_what_they_may(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(ADMINS[0].name))
    page.goto(f"{stack.base}/app/#/forums")
    form = page.get_by_role("form", name="New forum")
    form.get_by_label("Name").fill("Board room")
    form.get_by_label("What it is for").fill("Minutes and motions of the board.")
    form.get_by_role("group", name="Who may post").get_by_label("admin").check()
    form.get_by_role("button", name="Sign and create the forum").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board room")
    category = page.url.split("category=")[1]
    admin = did_of(stack, ADMINS[0].name)
    listed = ask(stack, "messaging", "categories", {"community": "demo", "member": admin})
    made = [c for c in listed["categories"] if c["category"] == category]
    assert [(c["read_roles"], c["post_roles"]) for c in made] == [([], ["admin"])]

    # Its settings: only admins may read it from now on.
    page.get_by_text("Forum settings").click()
    settings = page.get_by_role("form", name="Settings of Board room")
    settings.get_by_role("group", name="Who may read").get_by_label("admin").check()
    settings.get_by_role("button", name="Sign and save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()

    # A member (not a moderator) does not see it; the admin still does.
    member = new_browser("member")
    restore(member.page, stack, stack.phrase(MEMBERS[1].name))
    member.page.goto(f"{stack.base}/app/#/forums")
    expect(member.page.get_by_role("heading", level=1)).to_have_text("Forums")
    expect(member.page.get_by_role("link", name="Board room")).to_have_count(0)
    expect(member.page.get_by_role("form", name="New forum")).to_have_count(0)
    page.goto(f"{stack.base}/app/#/forums")
    expect(page.get_by_test_id("categories")).to_contain_text("read: admin · post: admin")
    assert browser.errors == []
    assert member.errors == []
