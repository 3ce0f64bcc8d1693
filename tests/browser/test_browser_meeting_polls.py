"""A meeting poll (Loomio's time poll) in Chromium: a member offers three evenings in her own time
zone, three members say when they can come, everyone reads who can come when, the author closes
the poll and fixes the best evening and a place, another member saves the meeting to his calendar,
and the author corrects the place."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import CDPSession, Page, expect

from cos.demo import MEMBERS
from tests.browser.conftest import PHONE, Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore

TITLE = "Spring planning meeting"
ZONE = "America/New_York"
# Three evenings as she types them on her device in New York, 18:30 to 20:00.
EVENINGS = ("2027-03-02T18:30", "2027-03-03T18:30", "2027-03-04T18:30")
TUE, WED, THU = (re.compile(rf"{day},? {n} Mar") for day, n in (("Tue", 2), ("Wed", 3), ("Thu", 4)))
HOURS = "18:30\N{EN DASH}20:00"  # as her locale writes the span of a meeting


def instant(local: str) -> str:
    """The UTC instant the service should be sent for a time typed in New York."""
    at = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def in_new_york(browser: Browser) -> CDPSession:
    """Her device's clock is set to New York and its language to British English (so the times she
    reads are hers, whatever the machine running the test says). Keep the session: the override
    lasts as long as it does."""
    cdp = browser.context.new_cdp_session(browser.page)
    cdp.send("Emulation.setTimezoneOverride", {"timezoneId": ZONE})
    cdp.send("Emulation.setLocaleOverride", {"locale": "en-GB"})
    return cdp


def fits_the_phone(page: Page) -> None:
    """Nothing pushes the page wider than the phone: the times' grid scrolls inside its card."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def answer(page: Page, said: dict[re.Pattern[str], str]) -> None:
    """Say, for each evening, whether she can come, then sign."""
    for day, words in said.items():
        page.get_by_role("group", name=day).get_by_label(words, exact=True).check()
    page.get_by_role("button", name=re.compile("Sign and cast my vote|Change my vote")).click()
    expect(page.get_by_test_id("my-ballot")).to_be_visible()


def test_members_find_a_time_and_the_author_fixes_the_meeting_they_add_to_their_calendars(
    browser: Browser, stack: Stack, new_browser: Callable[[str], Browser]
) -> None:
    author, second, third = (m.name for m in MEMBERS)
    keep = [in_new_york(browser)]
    page = browser.page
    page.on("dialog", lambda dialog: dialog.accept())
    restore(page, stack, stack.phrase(author))
    page.goto(f"{stack.base}/app/#/polls")
    form = page.get_by_role("form", name="Start a poll")
    form.get_by_label("Question").fill(TITLE)
    form.get_by_label("Kind").select_option("meeting")
    expect(form.get_by_label("Options, one per line")).to_be_hidden()
    expect(form.get_by_label(re.compile("^Secret ballot"))).to_be_hidden()  # who can come is the point
    expect(form.get_by_text(f"In your time zone ({ZONE})")).to_be_visible()
    form.get_by_label("Time 1", exact=True).fill(EVENINGS[1])
    form.get_by_label("Time 2", exact=True).fill(EVENINGS[0])
    form.get_by_role("button", name="Add a time").click()
    form.get_by_label("Time 3", exact=True).fill(EVENINGS[0])
    form.get_by_label("Length (minutes)").fill("90")
    form.get_by_role("button", name="Sign and start the poll").click()
    expect(form.get_by_role("alert")).to_contain_text("Two of the times are the same")  # before signing
    form.get_by_label("Time 3", exact=True).fill(EVENINGS[2])
    fits_the_phone(page)
    browser.screenshot("meeting-form")
    form.get_by_role("button", name="Sign and start the poll").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    poll = page.url.split("poll=")[1]
    made = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})
    # Sent as instants, earliest first, whatever the order she typed them in.
    assert made["spec"]["kind"] == "meeting"
    assert made["spec"]["options"] == [instant(e) for e in EVENINGS]
    assert made["spec"]["duration_min"] == 90

    # Each says when she can come; the slots read as her local evenings, not as instants.
    expect(page.get_by_role("group", name=WED)).to_contain_text(HOURS)
    answer(page, {TUE: "If need be", WED: "Can attend", THU: "Can't attend"})
    expect(page.get_by_test_id("my-ballot")).to_contain_text(
        re.compile(rf"Can attend: Wed,? 3 Mar.*{HOURS}\. If need be: Tue")
    )
    others = []
    for name, said in (
        (second, {TUE: "Can attend", WED: "Can attend", THU: "Can't attend"}),
        (third, {TUE: "If need be", WED: "If need be", THU: "Can attend"}),
    ):
        member = new_browser(name.split()[0].lower())
        keep.append(in_new_york(member))
        restore(member.page, stack, stack.phrase(name))
        member.page.goto(f"{stack.base}/app/#/polls?poll={poll}")
        answer(member.page, said)
        others.append(member)
    voter = others[0].page
    voter.reload()  # her answers fill the form again when she comes back to change them
    expect(voter.get_by_role("group", name=TUE).get_by_label("Can attend", exact=True)).to_be_checked()
    expect(voter.get_by_role("group", name=THU).get_by_label("Can't attend", exact=True)).to_be_checked()

    # Who can come when: one row per member, a mark with its words per evening, and the count.
    page.reload()
    table = page.get_by_test_id("availability")
    expect(table.locator("caption")).to_have_text("Who can come when")
    expect(table.locator("thead th")).to_have_text(["Member", TUE, WED, THU])
    expect(table.locator("tbody th")).to_have_text([author, second, third])
    expect(table.locator("tbody tr").nth(1).locator("td")).to_have_text(
        ["✓Can attend", "✓Can attend", "✗Can't attend"]
    )
    expect(table.locator("tbody tr").nth(2).get_by_role("cell").first).to_have_accessible_name("If need be")
    expect(table.locator("tfoot td")).to_have_text(["3 (2 if need be)", "3 (1 if need be)", "1"])
    fits_the_phone(page)
    browser.screenshot("who-can-come")

    # The author closes it: Tuesday and Wednesday suit all three, Wednesday with more clear yeses.
    page.get_by_role("button", name="Close the poll now").click()
    expect(page.get_by_test_id("outcome")).to_have_text(re.compile(rf"^Decided: Wed,? 3 Mar[^;]*, {HOURS}$"))
    expect(page.get_by_test_id("breakdown").locator("tbody th")).to_have_text([WED, TUE, THU])
    expect(page.get_by_test_id("breakdown").locator("tbody tr").first.locator("td")).to_have_text(
        ["2", "1", "0"]
    )
    result = ask(stack, "governance", "results", {"community": "demo", "poll": poll})["result"]
    assert result["winners"] == [instant(EVENINGS[1])]

    # She fixes the best evening (offered first) and the place; the meeting is on the poll for all.
    outcome = page.get_by_role("form", name="State the outcome")
    expect(outcome.get_by_label("Meeting time")).to_have_value("1")
    outcome.get_by_label("What was decided, and what happens next").fill("We meet on Wednesday evening.")
    outcome.get_by_label("Where (optional)").fill("The back room, 12 Mill Lane")
    outcome.get_by_role("button", name="Sign and share the outcome").click()
    meeting = page.get_by_test_id("meeting")
    expect(meeting).to_have_text(
        re.compile(rf"^Meeting: Wed,? 3 Mar.*, {HOURS}, The back room, 12 Mill Lane$")
    )
    fits_the_phone(page)
    browser.screenshot("meeting-fixed")
    view = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})
    assert view["meeting"]["location"] == "The back room, 12 Mill Lane"
    assert datetime.fromisoformat(view["meeting"]["start"]) == datetime.fromisoformat(instant(EVENINGS[1]))

    # Another member's open screen shows the meeting as soon as it is stated (a live notice).
    expect(voter.get_by_test_id("meeting")).to_contain_text(HOURS, timeout=15_000)
    expect(voter.get_by_role("form", name="State the outcome")).to_have_count(0)

    with voter.expect_download() as saved:
        voter.get_by_role("button", name="Add to calendar").click()
    download = saved.value
    assert download.suggested_filename == f"{TITLE}.ics"
    calendar = download.path().read_text()
    assert "BEGIN:VCALENDAR" in calendar
    assert f"SUMMARY:{TITLE}" in calendar
    start = datetime.fromisoformat(instant(EVENINGS[1]))
    assert re.search(rf"^DTSTART(;VALUE=DATE-TIME)?:{start:%Y%m%dT%H%M%S}Z\r?$", calendar, re.MULTILINE)

    # The author corrects the place; the time she fixed stays chosen, and the others see the change.
    page.get_by_text("Correct the outcome").click()
    correction = page.get_by_role("form", name="Correct the outcome")
    expect(correction.get_by_label("Meeting time")).to_have_value("1")
    expect(correction.get_by_label("Where (optional)")).to_have_value("The back room, 12 Mill Lane")
    correction.get_by_label("Where (optional)").fill("The library, 3 Mill Lane")
    correction.get_by_role("button", name="Sign and share the correction").click()
    expect(page.get_by_test_id("meeting")).to_contain_text(f"{HOURS}, The library, 3 Mill Lane")
    expect(voter.get_by_test_id("meeting")).to_contain_text("The library", timeout=15_000)
    for each in (browser, *others):
        assert each.errors == []
