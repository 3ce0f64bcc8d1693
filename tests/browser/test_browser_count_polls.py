"""A count poll (Loomio's "count") in Chromium: a member asks who is in for the bulk order of flour
and how many are needed, members answer "I'm in" or "I'm out", everyone sees the bar fill and who
is in, and the ballot that reaches the target closes the poll with its result."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from cos.demo import ADMINS, MEMBERS
from tests.browser.conftest import PHONE, Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore

QUESTION = "Who is in for the bulk order of flour?"


def fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def say(page: Page, answer: str, reason: str = "") -> None:
    """Answer with one button, which signs the ballot at once."""
    if reason:
        page.get_by_label("Your reason (optional)").fill(reason)
    page.get_by_role("button", name=answer, exact=True).click()
    expect(page.get_by_test_id("my-ballot")).to_contain_text(f"on the public board: {answer}")


def test_members_count_themselves_in_and_the_ballot_that_reaches_the_target_closes_the_poll(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    cleo, dev, eunji = (m.name for m in MEMBERS)
    ada = ADMINS[0].name
    page = browser.page
    restore(page, stack, stack.phrase(cleo))
    page.goto(f"{stack.base}/app/#/polls")
    form = page.get_by_role("form", name="Start a poll")
    form.get_by_label("Question").fill(QUESTION)
    form.get_by_label("Details").fill("We need 3 households to get the wholesale price.")
    expect(form.get_by_label("How many need to be in")).to_be_hidden()
    form.get_by_label("Kind").select_option(label="Count (who is in)")
    expect(form.get_by_label("Options, one per line")).to_be_hidden()
    expect(form.get_by_label(re.compile("^Secret ballot"))).to_be_hidden()  # who is in is the point
    form.get_by_role("button", name="Sign and start the poll").click()
    expect(form.get_by_role("alert")).to_contain_text("Say how many need to be in")  # before signing
    form.get_by_label("How many need to be in").fill("3")
    form.get_by_label("Close as soon as the target is reached").check()
    fits_the_phone(page)
    browser.screenshot("count-form")
    form.get_by_role("button", name="Sign and start the poll").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    poll = page.url.split("poll=")[1]
    made = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})
    assert {k: made["spec"][k] for k in ("kind", "target", "close_early", "options")} == {
        "kind": "count", "target": 3, "close_early": "target_reached", "options": [],
    }  # fmt: skip
    assert made["options"] == ["I'm in", "I'm out"]

    # Nobody is in yet; she counts herself in with one press.
    expect(page.get_by_test_id("count-progress")).to_have_text("0 of 3 needed")
    expect(page.get_by_test_id("who-is-in")).to_have_text("No one is in yet.")
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "0")
    say(page, "I'm in")
    expect(page.get_by_test_id("count-progress")).to_have_text("1 of 3 needed")
    expect(page.get_by_test_id("who-is-in").locator("li")).to_have_text([cleo])

    # Two more members answer, each on their own device.
    others: dict[str, Browser] = {}
    for name, answer, reason in ((dev, "I'm out", "Away that month"), (eunji, "I'm in", "")):
        member = new_browser(name.split()[0].lower())
        restore(member.page, stack, stack.phrase(name))
        member.page.goto(f"{stack.base}/app/#/polls?poll={poll}")
        expect(member.page.get_by_role("heading", level=1)).to_have_text(QUESTION)
        say(member.page, answer, reason)
        others[name] = member
    theirs = others[eunji].page
    expect(theirs.get_by_test_id("count-progress")).to_have_text("2 of 3 needed")
    expect(theirs.get_by_test_id("who-is-in").locator("li")).to_have_text([cleo, eunji])
    expect(theirs.get_by_test_id("who-is-out")).to_have_text(f"Out (1): {dev}")
    expect(theirs.get_by_test_id("positions")).to_contain_text(f"{dev}: I'm out")
    expect(theirs.get_by_test_id("positions")).to_contain_text("Away that month")
    live = ask(stack, "governance", "results", {"community": "demo", "poll": poll})
    assert live["count"] == {"in": 2, "out": 1, "target": 3, "reached": False}
    assert live["result"] is None

    # Her open screen follows the others' answers (a live notice), without a reload.
    expect(page.get_by_test_id("count-progress")).to_have_text("2 of 3 needed", timeout=15_000)
    fits_the_phone(page)
    browser.screenshot("count-progress")

    # Ada's "I'm in" is the third: it reaches the target, and the poll closes with it.
    admin = new_browser("ada")
    restore(admin.page, stack, stack.phrase(ada))
    admin.page.goto(f"{stack.base}/app/#/polls?poll={poll}")
    admin.page.get_by_role("button", name="I'm in", exact=True).click()
    outcome = admin.page.get_by_test_id("outcome")
    expect(outcome).to_have_text("Target reached: 3 of 3 needed")
    expect(admin.page.get_by_test_id("count-progress")).to_have_text("3 of 3 needed · target reached")
    expect(admin.page.get_by_role("button", name="I'm in", exact=True)).to_have_count(0)
    breakdown = admin.page.get_by_test_id("breakdown")
    expect(breakdown.locator("tbody th")).to_have_text(["I'm in", "I'm out"])
    expect(breakdown.locator("tbody tr").first.locator("td").first).to_have_text("3")
    expect(admin.page.get_by_test_id("who-is-in").locator("li")).to_have_text(sorted([ada, cleo, eunji]))
    result = ask(stack, "governance", "results", {"community": "demo", "poll": poll})["result"]
    assert {k: result[k] for k in ("in", "out", "target", "reached", "outcome")} == {
        "in": 3, "out": 1, "target": 3, "reached": True, "outcome": "passed",
    }  # fmt: skip
    listed = ask(stack, "governance", "list_polls", {"community": "demo"})["polls"]
    assert next(p for p in listed if p["poll"] == poll)["status"] == "decided"

    # The others' screens show the result as soon as it is recorded; no one can answer any more.
    for each in (page, theirs):
        expect(each.get_by_test_id("outcome")).to_have_text("Target reached: 3 of 3 needed", timeout=15_000)
        expect(each.get_by_role("button", name="I'm out", exact=True)).to_have_count(0)
    fits_the_phone(page)
    browser.screenshot("count-reached")
    for each in (browser, admin, *others.values()):
        assert each.errors == []
