"""A trustee dealt a false share complains from her browser; the dealer, told on her home page,
reveals the true share from hers (re-derived from her key); the complainer's check then passes and
both decrypt their shares of the count in their browsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from playwright.sync_api import expect

from cos.demo import ADMINS, MEMBERS
from services.governance.crypto import (
    BallotRules,
    PollKey,
    SecretShare,
    SystemRandomness,
    deal_as_trustee,
    encrypt_ballot,
    seal_share,
)
from services.governance.crypto.group import scalar_hex
from shared.trust.datetimes import format_datetime
from shared.trust.member_keys import MemberKeys
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_ballot import signed
from tests.browser.test_browser_onboarding import ask, restore

QUESTION = "Who keeps the keys to the store room?"


def test_a_false_share_is_complained_of_and_revealed_from_the_browsers_and_the_poll_counts(
    browser: Browser, stack: Stack
) -> None:
    ada, ben = ADMINS[0].name, ADMINS[1].name
    ada_keys, ben_keys = (MemberKeys.from_phrase(stack.phrase(n)) for n in (ada, ben))
    dids = [ada_keys.did, ben_keys.did]
    rng = SystemRandomness()

    # Ada starts a secret poll and makes her part from another program, dealing Ben a false share.
    spec = {"kind": "single", "title": QUESTION, "options": ["Cleo", "Dev"], "threshold_pct": 0,
            "secret": {"trustees": dids, "threshold": 2}}  # fmt: skip
    closes = format_datetime(datetime.now(tz=UTC) + timedelta(days=3))
    created = ask(
        stack, "governance", "create_poll",
        signed(stack, ada, "governance.create_poll", {"spec": spec, "closes_at": closes}),
    )  # fmt: skip
    poll, crypto_id = created["poll"], created["crypto_poll_id"]
    commitment, _ = deal_as_trustee(ada_keys.signing_key.sign, crypto_id, 1, 2, dids, rng)
    false = seal_share(SecretShare(dealer=1, recipient=2, value=scalar_hex(424242)), ben_keys.did)
    part = {
        "poll": poll,
        "commitment": msgspec.to_builtins(commitment),
        "shares": [msgspec.to_builtins(false)],
    }
    ask(stack, "governance", "commit_trustee", signed(stack, ada, "governance.commit_trustee", part))

    # Ben makes his part in his browser; checking what he was dealt, he finds Ada's share false.
    page = browser.page
    restore(page, stack, stack.phrase(ben))
    page.goto(f"{stack.base}/app/#/polls?poll={poll}")
    page.get_by_role("button", name="Sign and make my part of the key").click()
    expect(page.get_by_role("button", name="Sign and cast my vote")).to_be_visible()
    page.get_by_role("button", name="Check the shares dealt to me").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Trustee 1's share for you does not match its public commitment"
    )
    page.get_by_role("button", name="Complain: ask trustee 1 to reveal the share in public").click()
    complaints = page.get_by_test_id("complaints")
    expect(complaints).to_contain_text(
        f"trustee 2 ({ben}) says the share trustee 1 ({ada}) dealt them is false"
    )
    expect(complaints).to_contain_text("waiting for trustee 1 to reveal it")

    # Ada's home page says what waits for her; she reveals the share, re-derived from her key.
    restore(page, stack, stack.phrase(ada))
    turns = page.get_by_test_id("trustee-turns")
    expect(turns).to_contain_text(f"Reveal a share you dealt: {QUESTION}")
    turns.get_by_role("link", name=QUESTION).click()
    page.get_by_role("button", name="Sign and reveal the share for trustee 2").click()
    expect(complaints).to_contain_text("revealed in public; it matches the commitments")
    expect(page.get_by_role("button", name="Sign and reveal the share for trustee 2")).to_have_count(0)
    found = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})
    (answered,) = found["complaints"]
    assert (answered["dealer"], answered["recipient"], answered["revealed"]["dealer"]) == (1, 2, 1)

    # Members vote, Ada closes; each trustee decrypts in her browser, Ben with the revealed share.
    key = PollKey(crypto_id, found["public_key"], msgspec.convert(found["ballot_rules"], BallotRules))
    for member, votes in ((MEMBERS[0].name, [1, 0]), (MEMBERS[1].name, [0, 1]), (MEMBERS[2].name, [0, 1])):
        did = MemberKeys.from_phrase(stack.phrase(member)).did
        ballot = msgspec.to_builtins(encrypt_ballot(key, did, votes, rng))
        body = {"poll": poll, "ballot": ballot}
        ask(stack, "governance", "cast_ballot", signed(stack, member, "governance.cast_ballot", body))
    ask(stack, "governance", "close_poll", signed(stack, ada, "governance.close_poll", {"poll": poll}))
    page.reload()
    page.get_by_role("button", name="Sign and decrypt my share of the count").click()
    expect(page.get_by_test_id("trustees")).to_contain_text(f"1. {ada} (you) counted")
    restore(page, stack, stack.phrase(ben))
    page.goto(f"{stack.base}/app/#/polls?poll={poll}")
    page.get_by_role("button", name="Sign and decrypt my share of the count").click()
    expect(page.get_by_role("row", name="Dev 2")).to_be_visible()
    result = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})["result"]
    assert result["totals"] == {"Cleo": 1, "Dev": 2}
    assert result["trustees_used"] == [1, 2]
    browser.screenshot("share-complaint-answered")
    assert browser.errors == []
