"""A screen's live stream that drops (the network goes, the gateway ends it after its lifetime)
is opened again by the app, and what was said meanwhile is fetched then: nothing is missed."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from cos.demo import ADMINS, MEMBERS
from tests.browser.conftest import Browser, live_stream_opened
from tests.browser.stack import Stack
from tests.browser.test_browser_member_flows import open_general
from tests.browser.test_browser_onboarding import restore

# In her page only: the live stream's requests can be cut and refused, as a lost network would.
# The app's own code meets a stream that errors and attempts that fail, and nothing else changes.
NETWORK = """(() => {
  const fetched = window.fetch.bind(window);
  window.liveNetwork = { down: false, streams: new Set() };
  window.fetch = (url, options = {}) => {
    if (!String(url).endsWith("/live")) return fetched(url, options);
    if (window.liveNetwork.down) return Promise.reject(new TypeError("Failed to fetch"));
    const cut = new AbortController();
    options.signal?.addEventListener("abort", () => cut.abort(), { once: true });
    window.liveNetwork.streams.add(cut);
    return fetched(url, { ...options, signal: cut.signal });
  };
})();"""


def test_a_conversation_that_lost_its_connection_shows_what_was_said_meanwhile_once_back(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    writer, reader = MEMBERS[1].name, ADMINS[1].name
    page = browser.page
    conversation = open_general(page, stack, writer)

    other = new_browser("reconnecting-reader")
    other.page.add_init_script(NETWORK)
    restore(other.page, stack, stack.phrase(reader))
    with live_stream_opened(other):
        other.page.goto(f"{stack.base}/app/#/chat?conversation={conversation}")
        expect(other.page.get_by_test_id("messages")).to_be_visible()

    # Her connection goes: the stream ends and the app keeps trying.
    other.page.evaluate(
        "() => { window.liveNetwork.down = true; window.liveNetwork.streams.forEach((cut) => cut.abort()); }"
    )
    expect(other.page.locator("body")).to_have_attribute("data-live", "connecting", timeout=30_000)
    expect(other.page.get_by_role("status").filter(has_text="Reconnecting")).to_be_visible()
    other.screenshot("chat-offline")

    composer = page.get_by_label("Message")
    composer.fill("The delivery moved to Friday")
    composer.press("Enter")
    expect(page.get_by_test_id("messages")).to_contain_text("The delivery moved to Friday")
    expect(other.page.get_by_test_id("messages")).not_to_contain_text("The delivery moved to Friday")

    # Back online: the stream opens again and the message sent while she was away is shown.
    other.page.evaluate("() => { window.liveNetwork.down = false; }")
    expect(other.page.locator("body")).to_have_attribute("data-live", "open", timeout=60_000)
    expect(other.page.get_by_test_id("messages")).to_contain_text("The delivery moved to Friday")
    expect(other.page.get_by_text("Reconnecting…")).to_be_hidden()
    other.screenshot("chat-reconnected")

    # And it is live again: the next message arrives without a reload.
    composer.fill("Bring your own bags")
    composer.press("Enter")
    expect(other.page.get_by_test_id("messages")).to_contain_text("Bring your own bags", timeout=30_000)
    assert browser.errors == []
