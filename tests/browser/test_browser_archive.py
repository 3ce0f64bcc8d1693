"""The public archive in Chromium: an admin composes an announcement to every member and publishes
it; someone with no account opens the community's archive and reads it (with its Atom feed and the
document the community signed, which verifies against the community's did:webvh); the admin
withdraws it and it is gone from the archive; a segment's announcement cannot be published."""

from __future__ import annotations

import json
import secrets
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime

from playwright.sync_api import expect

from cos.commands.did import fetch_url
from cos.demo import ADMINS
from shared.trust.credentials import verify_credential
from shared.trust.resolver import default_resolver
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import restore

ATOM = "{http://www.w3.org/2005/Atom}"


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        body: bytes = answer.read()
        return body


def test_an_admin_publishes_an_announcement_anyone_reads_it_and_she_withdraws_it(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    title = f"Open day & harvest <supper> {secrets.token_hex(3)}"
    page = browser.page
    restore(page, stack, stack.phrase(ADMINS[0].name))  # Ada Okafor
    page.goto(f"{stack.base}/app/#/announcements")
    expect(page.get_by_test_id("public-archive")).to_have_attribute("href", "/c/demo/announcements/archive")
    form = page.get_by_role("form", name="New announcement")
    publish = form.get_by_label("Also publish in the public archive (anyone can read it, without an account)")

    # A segment's announcement cannot be public: the box is disabled, and says why.
    form.get_by_text("Audience: every member").click()
    form.get_by_role("group", name="Roles").get_by_label("moderator").check()
    expect(publish).to_be_disabled()
    expect(form).to_contain_text("Only an announcement to every member can be in the public archive")
    form.get_by_role("group", name="Roles").get_by_label("moderator").uncheck()
    expect(publish).to_be_enabled()

    form.get_by_label("Title", exact=True).fill(title)
    form.get_by_label("Message", exact=True).fill("Saturday from **10am**: bring a plate.")
    publish.check()
    form.get_by_role("button", name="Sign and send").click()
    expect(page.locator("#toast")).to_contain_text("It is in the public archive.")
    row = page.get_by_test_id("sent").locator("li").filter(has_text=title)
    expect(row.get_by_test_id("public")).to_have_text("In the public archive")

    # Someone without an account, in another browser, opens the community's archive.
    visitor = new_browser("visitor")
    archive = f"{stack.base}/c/demo/announcements/archive"
    visitor.page.goto(archive)
    expect(visitor.page.get_by_role("heading", level=1)).to_have_text("Announcements of Riverside Food Co-op")
    article = visitor.page.locator("article").filter(has_text=title)
    expect(article.get_by_role("heading", level=2)).to_have_text(title)
    expect(article.locator("strong")).to_have_text("10am")
    feed_link = visitor.page.locator('link[rel="alternate"][type="application/atom+xml"]')
    expect(feed_link).to_have_attribute("href", f"{archive}.atom")
    browser.screenshot("admin-published")
    visitor.screenshot("public-archive")

    # The feed has it, and the document it links to is the community's signature, which verifies.
    feed = ET.fromstring(_get(f"{archive}.atom"))
    [entry] = [e for e in feed.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == title]
    [related] = [link for link in entry.findall(f"{ATOM}link") if link.get("rel") == "related"]
    document = json.loads(_get(related.get("href", "")))
    listed = json.loads(_get(archive))
    assert document["issuer"] == listed["community"]["did"]
    now = datetime.now(tz=UTC)
    verified = verify_credential(document, default_resolver(webvh_fetcher=fetch_url, now=now), now=now)
    assert verified.issuer == listed["community"]["did"]
    assert document["credentialSubject"]["title"] == title

    # She withdraws it: it is gone from the archive at once.
    row.get_by_role("button", name="Withdraw from the public archive").click()
    expect(page.locator("#toast")).to_contain_text("Withdrawn")
    row = page.get_by_test_id("sent").locator("li").filter(has_text=title)
    expect(row.get_by_role("button", name="Publish in the public archive")).to_be_visible()
    expect(row.get_by_test_id("public")).to_have_count(0)
    visitor.page.reload()
    expect(visitor.page.get_by_role("heading", level=1)).to_have_text("Announcements of Riverside Food Co-op")
    expect(visitor.page.locator("article").filter(has_text=title)).to_have_count(0)
    visitor.page.goto(f"{archive}/{entry.findtext(f'{ATOM}id', '').rsplit(':', 1)[-1]}")
    expect(visitor.page.get_by_role("heading", level=1)).to_have_text("Not here")
    assert title not in [a["title"] for a in json.loads(_get(archive))["announcements"]]
    assert browser.errors == []
    assert visitor.errors == []
