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
from tests.browser.test_browser_onboarding import ask, restore

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
    admin.goto(f"{stack.base}/app/#/polls")
    admin.get_by_label("Question").fill(QUESTION)
    admin.get_by_label("Options, one per line").fill("Mill A\nMill B")
    admin.get_by_role("button", name="Sign and start the poll").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(QUESTION)
    poll = admin.url.split("poll=")[1]

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
