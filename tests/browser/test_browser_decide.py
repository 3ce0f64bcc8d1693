"""Decide in Chromium: a member delegates her vote for a poll to a proxy, the proxy votes for her,
she revokes the delegation, the poll's author closes it and everyone reads the breakdown with the
vote cast by proxy."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from cos.demo import ADMINS, MEMBERS
from shared.trust.member_keys import MemberKeys
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore, start_poll

QUESTION = "Which supplier for the bulk flour?"


def did_of(stack: Stack, name: str) -> str:
    return MemberKeys.from_phrase(stack.phrase(name)).did


def test_a_proxy_votes_for_a_member_who_then_revokes_and_the_results_show_it(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    author, delegator, proxy = ADMINS[0].name, MEMBERS[0].name, MEMBERS[2].name
    admin = browser.page
    admin.on("dialog", lambda dialog: dialog.accept())
    restore(admin, stack, stack.phrase(author))
    poll = start_poll(admin, stack, QUESTION, options="Mill A\nMill B")

    member = new_browser("delegator")
    restore(member.page, stack, stack.phrase(delegator))
    member.page.goto(f"{stack.base}/app/#/proxies")
    member.page.get_by_label("Your proxy").select_option(did_of(stack, proxy))
    member.page.get_by_label("For", exact=True).select_option(f"poll:{poll}")
    member.page.get_by_role("button", name="Sign and delegate").click()
    expect(member.page.get_by_test_id("given")).to_contain_text(proxy)

    deputy = new_browser("proxy")
    restore(deputy.page, stack, stack.phrase(proxy))
    deputy.page.goto(f"{stack.base}/app/#/polls?poll={poll}")
    deputy.page.get_by_label("Vote for").select_option(did_of(stack, delegator))
    deputy.page.get_by_label("Mill B").check()
    deputy.page.get_by_role("button", name="Sign and cast my vote").click()
    expect(deputy.page.get_by_text("1 by proxy")).to_be_visible()
    deputy.screenshot("proxy-vote")
    board = ask(stack, "governance", "board", {"community": "demo", "poll": poll})
    assert [(b["voter"], b["cast_by"], b["choice"]) for b in board["ballots"]] == [
        (did_of(stack, delegator), did_of(stack, proxy), [1])
    ]

    # She revokes: the proxy can no longer vote for her (the ballot already cast stays).
    member.page.get_by_test_id("given").get_by_role("button", name="Revoke").click()
    expect(member.page.get_by_test_id("given")).to_contain_text("revoked")
    deputy.page.reload()
    expect(deputy.page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    expect(deputy.page.get_by_label("Vote for")).to_have_count(0)

    # The author closes the poll; the breakdown counts the proxy's vote as delegated.
    admin.reload()
    admin.get_by_role("button", name="Close the poll now").click()
    expect(admin.get_by_test_id("breakdown")).to_contain_text("Mill B")
    expect(admin.get_by_test_id("result-facts")).to_contain_text("1 by proxy")
    browser.screenshot("results")
    results = ask(stack, "governance", "results", {"community": "demo", "poll": poll})
    assert results["result"]["totals"] == {"Mill A": 0, "Mill B": 1}
    assert results["result"]["delegated"] == 1
    for each in (browser, member, deputy):
        assert each.errors == []


def test_a_facilitator_sets_the_poll_rules_and_states_the_outcome_members_then_read(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    author = ADMINS[1].name
    page = browser.page
    restore(page, stack, stack.phrase(author))
    page.goto(f"{stack.base}/app/#/polls")
    form = page.get_by_role("form", name="Start a poll")
    form.get_by_label("Question").fill("Adopt the new opening hours?")
    form.get_by_label("Kind").select_option("proposal")
    form.get_by_text("More settings").click()
    form.get_by_label("Quorum (% of members who must vote)").fill("40")
    form.get_by_label("Pass threshold (%)").fill("66")
    form.get_by_label("A single block fails a proposal").uncheck()
    form.get_by_label("Remind those who have not voted (hours before the close)").fill("2, 24, x")
    form.get_by_role("button", name="Sign and start the poll").click()
    expect(form.get_by_role("alert")).to_contain_text("whole hours")  # checked before signing
    form.get_by_label("Remind those who have not voted (hours before the close)").fill("2, 24")
    form.get_by_label("Discussion link").fill("#/forums")
    form.get_by_role("button", name="Sign and start the poll").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Adopt the new opening hours?")
    poll = page.url.split("poll=")[1]
    spec = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})["spec"]
    assert (spec["quorum_pct"], spec["threshold_pct"], spec["block_fails"]) == (40, 66, False)
    assert (spec["reminders_h"], spec["discussion"], spec["close_early"]) == ([24, 2], "#/forums", "never")
    expect(page.get_by_role("link", name="The discussion")).to_have_attribute("href", "#/forums")

    page.get_by_label("agree", exact=True).check()
    page.get_by_role("button", name="Sign and cast my vote").click()
    expect(page.get_by_test_id("my-ballot")).to_contain_text("agree")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close the poll now").click()
    expect(page.get_by_test_id("breakdown")).to_be_visible()

    # The author states the outcome; a member reads it on the poll.
    outcome = page.get_by_role("form", name="State the outcome")
    outcome.get_by_label("What was decided, and what happens next").fill(
        "Too few voted for a decision.\nWe ask again at the next assembly."
    )
    outcome.get_by_role("button", name="Sign and share the outcome").click()
    expect(page.get_by_test_id("outcome-statement")).to_contain_text("We ask again at the next assembly.")
    browser.screenshot("outcome")
    results = ask(stack, "governance", "results", {"community": "demo", "poll": poll})
    assert results["outcome"] == "Too few voted for a decision.\nWe ask again at the next assembly."

    reader = new_browser("reader")
    restore(reader.page, stack, stack.phrase(MEMBERS[1].name))
    reader.page.goto(f"{stack.base}/app/#/polls?poll={poll}")
    expect(reader.page.get_by_test_id("outcome-statement")).to_contain_text("Too few voted for a decision.")
    expect(reader.page.get_by_role("form", name="State the outcome")).to_have_count(0)
    assert browser.errors == []
    assert reader.errors == []
