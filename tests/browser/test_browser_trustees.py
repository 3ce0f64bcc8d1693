"""A secret poll run entirely from the web app: its author picks the trustees in the poll form; each
trustee makes her part of the key in her own browser (her polynomial derived from her key, exactly
as the Python ceremony derives it, her shares sealed to the other trustees inside her signed act);
members vote encrypted; after the close the trustees decrypt their shares of the total in their
browsers, and the service checks every proof before it publishes the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from playwright.sync_api import expect

from cos.demo import ADMINS, MEMBERS
from services.governance.crypto import BallotRules, PollKey, SystemRandomness, deal_as_trustee, encrypt_ballot
from shared.trust.datetimes import format_datetime
from shared.trust.member_keys import MemberKeys
from tests.browser.conftest import Browser, live_stream_opened
from tests.browser.stack import Stack
from tests.browser.test_browser_ballot import signed
from tests.browser.test_browser_onboarding import ask, restore

QUESTION = "Who checks the books this year?"


def test_trustees_make_the_key_and_count_a_secret_poll_from_their_browsers(
    browser: Browser, stack: Stack
) -> None:
    ada, ben = ADMINS[0].name, ADMINS[1].name
    ada_keys, ben_keys = (MemberKeys.from_phrase(stack.phrase(n)) for n in (ada, ben))
    page = browser.page

    # Ada starts a secret poll with herself and Ben as trustees, both needed to count.
    restore(page, stack, stack.phrase(ada))
    page.goto(f"{stack.base}/app/#/polls")
    page.get_by_label("Question").fill(QUESTION)
    page.get_by_label("Options, one per line").fill("Cleo\nDev")
    page.get_by_label("Secret ballot").check()
    picker = page.get_by_test_id("trustee-picker")
    expect(picker.get_by_label(f"{ada} (you)")).to_be_checked()
    picker.get_by_label(ben, exact=True).check()
    page.get_by_label("Trustees needed to count").fill("3")
    page.get_by_role("button", name="Sign and start the poll").click()
    expect(page.get_by_role("alert")).to_contain_text("Trustees needed to count: 1 to 2.")  # refused here
    page.get_by_label("Trustees needed to count").fill("2")
    page.get_by_role("button", name="Sign and start the poll").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    poll = page.url.split("poll=")[1]
    trustees = page.get_by_test_id("trustees")
    expect(trustees).to_contain_text(f"1. {ada} (you) waiting")
    expect(trustees).to_contain_text(f"2. {ben} waiting")

    page.get_by_role("button", name="Sign and make my part of the key").click()
    expect(trustees).to_contain_text(f"1. {ada} (you) key part made")
    expect(page.get_by_role("button", name="Sign and make my part of the key")).to_have_count(0)
    found = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})
    assert found["status"] == "created"
    # The browser derived exactly the polynomial the Python ceremony derives from her key.
    dids = [ada_keys.did, ben_keys.did]
    again, _ = deal_as_trustee(
        ada_keys.signing_key.sign, found["crypto_poll_id"], 1, 2, dids, SystemRandomness()
    )
    assert found["commitments"][0]["coefficients"] == list(again.coefficients)
    assert [(s["dealer"], s["recipient"]) for s in found["sealed_shares"]] == [(1, 2)]

    # Ben makes his part: the key is made and voting opens; he checks the share Ada dealt him.
    # His home page says what waits for him, and takes him there.
    restore(page, stack, stack.phrase(ben))
    turns = page.get_by_test_id("trustee-turns")
    expect(turns).to_contain_text(f"Make your part of the key: {QUESTION}")
    turns.get_by_role("link", name=QUESTION).click()
    page.get_by_role("button", name="Sign and make my part of the key").click()
    expect(page.get_by_role("button", name="Sign and cast my vote")).to_be_visible()
    page.get_by_role("button", name="Check the shares dealt to me").click()
    expect(page.get_by_test_id("shares-checked")).to_contain_text("All 1 shares dealt to you match")
    page.get_by_label("Dev").check()
    page.get_by_role("button", name="Sign and cast my vote").click()
    expect(page.get_by_test_id("my-ballot")).to_contain_text("tracker")

    # Two more members vote (their apps would do the same encryption), then Ada closes the poll.
    found = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})
    key = PollKey(
        found["crypto_poll_id"], found["public_key"], msgspec.convert(found["ballot_rules"], BallotRules)
    )
    for member, votes in ((MEMBERS[0].name, [1, 0]), (MEMBERS[1].name, [0, 1])):
        did = MemberKeys.from_phrase(stack.phrase(member)).did
        ballot = msgspec.to_builtins(encrypt_ballot(key, did, votes, SystemRandomness()))
        ask(
            stack,
            "governance",
            "cast_ballot",
            signed(stack, member, "governance.cast_ballot", {"poll": poll, "ballot": ballot}),
        )
    closed = ask(
        stack, "governance", "close_poll", signed(stack, ada, "governance.close_poll", {"poll": poll})
    )
    assert closed["encrypted_tally"]["ballots"] == 3

    # Each trustee decrypts her share of the total in her browser; the second share gives the result.
    page.reload()
    expect(page.get_by_role("region", name="Trustees")).to_contain_text(
        "2 of the 2 trustees must each decrypt"
    )
    page.get_by_role("button", name="Sign and decrypt my share of the count").click()
    expect(trustees).to_contain_text(f"2. {ben} (you) counted")
    assert ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})["result"] is None
    restore(page, stack, stack.phrase(ada))
    expect(turns).to_contain_text(f"Decrypt your share of the count: {QUESTION}")
    turns.get_by_role("link", name=QUESTION).click()
    page.get_by_role("button", name="Sign and decrypt my share of the count").click()
    expect(page.get_by_role("row", name="Dev 2")).to_be_visible()  # the result, on her screen
    result = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})["result"]
    assert result["totals"] == {"Cleo": 1, "Dev": 2}
    assert result["trustees_used"] == [1, 2]
    expect(page.get_by_role("region", name="Trustees")).to_contain_text("only on the total")
    browser.screenshot("secret-poll-counted")
    assert browser.errors == []


def test_a_member_who_is_not_a_trustee_watches_the_ceremony_live_without_trustee_buttons(
    browser: Browser, stack: Stack
) -> None:
    ada = ADMINS[0].name
    dids = [MemberKeys.from_phrase(stack.phrase(ada)).did]
    spec = {"kind": "single", "title": "A poll waiting for its trustee", "options": ["Yes", "No"],
            "secret": {"trustees": dids, "threshold": 1}}  # fmt: skip
    closes = format_datetime(datetime.now(tz=UTC) + timedelta(days=3))
    body = {"spec": spec, "closes_at": closes}
    created = ask(stack, "governance", "create_poll", signed(stack, ada, "governance.create_poll", body))
    page = browser.page
    restore(page, stack, stack.phrase(MEMBERS[2].name))
    page.goto(f"{stack.base}/app/#/polls")
    expect(page.get_by_role("heading", name="Not open yet")).to_be_visible()
    with live_stream_opened(browser):  # what happens to the poll from now on reaches her screen
        page.get_by_role("link", name="A poll waiting for its trustee").click()
        expect(page.get_by_test_id("trustees")).to_contain_text(f"1. {ada} waiting")
    expect(page.get_by_role("button", name="Sign and make my part of the key")).to_have_count(0)
    expect(page.get_by_text("This poll uses a secret ballot")).to_have_count(0)
    assert created["status"] == "created"

    # Ada makes her part (from another device): the page she is looking at opens the vote live.
    ada_keys = MemberKeys.from_phrase(stack.phrase(ada))
    commitment, shares = deal_as_trustee(
        ada_keys.signing_key.sign, created["crypto_poll_id"], 1, 1, dids, SystemRandomness()
    )
    part = {"poll": created["poll"], "commitment": msgspec.to_builtins(commitment), "shares": shares}
    opened = ask(stack, "governance", "commit_trustee", signed(stack, ada, "governance.commit_trustee", part))
    assert opened["status"] == "open"
    # A notice on the live stream, and the redraw it asks for.
    expect(page.get_by_role("button", name="Sign and cast my vote")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("trustees")).to_contain_text(f"1. {ada} key part made")
    assert browser.errors == []
