"""Navigation in Chromium: the screen on display is the one the member asked for last.

Every screen awaits the network before it paints. When a member leaves a slow screen before it
has loaded, its answer still arrives later; it must not paint over the screen she went to.
"""

from __future__ import annotations

import re

from playwright.sync_api import Route, expect

from cos.demo import MEMBERS
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import restore

POLL_LIST = re.compile(r"/c/demo/polls$")


def test_a_slow_screen_left_behind_does_not_paint_over_the_next(browser: Browser, stack: Stack) -> None:
    page = browser.page
    restore(page, stack, stack.phrase(MEMBERS[0].name))
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # the poll list's answer waits until the test lets it go

    page.route(POLL_LIST, hold)

    page.evaluate("location.hash = '#/polls'")
    deadline = 100
    while not held and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert held, "the polls screen never asked for its list"

    page.evaluate("location.hash = '#/directory'")
    expect(page.get_by_role("heading", level=1)).to_have_text("Directory")
    expect(page.locator(".list .member").first).to_be_visible()

    with page.expect_event("requestfinished", lambda r: bool(POLL_LIST.search(r.url))) as finished:
        held[0].continue_()
    response = finished.value.response()
    assert response is not None
    assert response.ok
    # The late answer has been read; give its handler the turns of the event loop it needs.
    page.evaluate("() => new Promise((done) => setTimeout(done, 300))")
    expect(page.get_by_role("heading", level=1)).to_have_text("Directory")
    assert page.get_by_role("heading", name="Polls").count() == 0
    page.unroute(POLL_LIST)

    # Asked for again, the polls screen paints as usual.
    page.evaluate("location.hash = '#/polls'")
    expect(page.get_by_role("heading", level=1)).to_have_text("Polls")
    assert browser.errors == []
