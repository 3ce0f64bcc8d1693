"""Decisions inside their discussion, in Chromium (Loomio's proposal in its thread): a member starts
a poll from a forum thread (the form comes filled in with the thread's title and link), the thread
lists it as open, another member votes, its author closes it, and the thread shows it decided with
its result; the poll says where it is discussed and links back. Checked on the bus as well."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from cos.demo import MEMBERS
from shared.trust.datetimes import format_datetime
from tests.browser.conftest import Browser, live_stream_opened
from tests.browser.stack import Stack
from tests.browser.test_browser_ballot import signed
from tests.browser.test_browser_onboarding import ask, restore

CLEO, DEV, EUNJI = MEMBERS
TITLE = "Should the co-op stock oat milk in glass bottles?"
LIVE_MS = 30_000  # a notice on the live stream, and the redraw it asks for


def test_a_poll_started_from_a_thread_is_shown_and_decided_in_it(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    author = browser.page
    author.on("dialog", lambda dialog: dialog.accept())
    restore(author, stack, stack.phrase(DEV.name))
    author.goto(f"{stack.base}/app/#/forums?category=general")
    author.get_by_label("Title").fill(TITLE)
    author.get_by_label("Message").fill("Glass is heavier to carry but the dairy takes the bottles back.")
    author.get_by_role("button", name="Sign and post").click()
    expect(author.get_by_role("heading", level=1)).to_have_text(TITLE)
    thread = author.url.split("thread=")[1]
    link = f"#/forums?thread={thread}"

    # No poll yet: the thread offers only to start one.
    decisions = author.get_by_test_id("decisions")
    start = decisions.get_by_role("link", name="Start a poll in this thread")
    expect(start).to_be_visible()
    expect(decisions.get_by_test_id("thread-polls")).to_have_count(0)
    start.click()

    form = author.get_by_role("form", name="Start a poll")
    expect(form.get_by_label("Question")).to_have_value(TITLE)
    expect(form.get_by_label("Discussion link")).to_have_value(link)
    expect(form.get_by_test_id("poll-thread")).to_contain_text(TITLE)
    form.get_by_label("Kind").select_option("proposal")
    form.get_by_role("button", name="Sign and start the poll").click()

    # Back in the thread, which lists the poll as open.
    expect(author.get_by_role("heading", level=1)).to_have_text(TITLE)
    listed = author.get_by_test_id("thread-polls")
    expect(listed.locator("li")).to_have_count(1)
    expect(listed.locator("li").first.locator(".badge")).to_have_text("open")
    expect(listed).to_contain_text("closes")
    browser.screenshot("thread-with-open-poll")
    in_thread = ask(stack, "governance", "list_polls", {"community": "demo", "thread": thread})["polls"]
    assert [(p["title"], p["status"], p["discussion"]) for p in in_thread] == [(TITLE, "open", link)]
    poll = in_thread[0]["poll"]
    spec = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})["spec"]
    assert (spec["kind"], spec["discussion"], spec["author_may_close"]) == ("proposal", link, True)

    # Another member finds the poll in the thread, sees where it is discussed, and votes.
    voter = new_browser("voter")
    page = voter.page
    restore(page, stack, stack.phrase(EUNJI.name))
    page.goto(f"{stack.base}/app/{link}")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    page.get_by_test_id("thread-polls").get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    discussed = page.get_by_test_id("discussed-in")
    expect(discussed).to_have_text(f"Discussed in: {TITLE}")
    expect(discussed.get_by_role("link", name=TITLE)).to_have_attribute("href", link)
    page.get_by_label("agree", exact=True).check()
    page.get_by_role("button", name="Sign and cast my vote").click()
    expect(page.get_by_test_id("my-ballot")).to_contain_text("agree")
    with live_stream_opened(voter):  # the poll's close, from now on, reaches her open thread
        page.get_by_test_id("discussed-in").get_by_role("link", name=TITLE).click()
        expect(page.get_by_test_id("thread-polls").locator(".badge")).to_have_text("open")

    # Its author closes it; the thread shows it decided, with its result.
    author.goto(f"{stack.base}/app/#/polls?poll={poll}")
    author.get_by_role("button", name="Close the poll now").click()
    expect(author.get_by_test_id("outcome")).to_contain_text("Passed")
    author.get_by_test_id("discussed-in").get_by_role("link", name=TITLE).click()
    expect(author.get_by_role("heading", level=1)).to_have_text(TITLE)
    item = author.get_by_test_id("thread-polls").locator("li").first
    expect(item.locator(".badge")).to_have_text("decided")
    expect(item.get_by_test_id("thread-poll-result")).to_have_text("Result: Passed")
    expect(item).to_contain_text("closed")
    browser.screenshot("thread-with-decided-poll")

    # The voter, still on the thread, sees it decided without reloading (the poll_closed notice).
    expect(page.get_by_test_id("thread-polls").locator(".badge")).to_have_text("decided", timeout=LIVE_MS)
    expect(page.get_by_test_id("thread-poll-result")).to_have_text("Result: Passed")
    for each in (browser, voter):
        assert each.errors == []


def test_a_poll_whose_thread_cannot_be_read_keeps_its_plain_link(browser: Browser, stack: Stack) -> None:
    gone = "#/forums?thread=gone-1"  # no such thread: messaging answers a typed 404
    spec = {"kind": "proposal", "title": "Paint the loading bay?", "discussion": gone}
    body = {"spec": spec, "closes_at": format_datetime(datetime.now(tz=UTC) + timedelta(days=3))}
    statement = signed(stack, CLEO.name, "governance.create_poll", body)
    created = ask(stack, "governance", "create_poll", statement)
    page = browser.page
    restore(page, stack, stack.phrase(DEV.name))
    page.goto(f"{stack.base}/app/#/polls?poll={created['poll']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Paint the loading bay?")
    expect(page.get_by_role("link", name="The discussion")).to_have_attribute("href", gone)
    expect(page.get_by_test_id("discussed-in")).to_have_count(0)
    assert browser.errors == []
