"""Secret ballots encrypted in Chromium by the web app's port of the governance cryptography: the
Python verifier accepts every proof and the tracker, the key decrypts the votes, and a ballot the
rules forbid is refused in the browser before anything is sent."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from playwright.sync_api import expect

from cos.demo import ADMINS, MEMBERS
from services.governance.crypto import (
    BallotRules,
    DeterministicRandomness,
    PollKey,
    SystemRandomness,
    deal,
    verify_ballot,
)
from services.governance.crypto.ballot import EncryptedBallot
from services.governance.crypto.elgamal import decode_ciphertext, decrypt, generate_keypair
from services.governance.crypto.group import point_hex
from shared.statements import sign_statement
from shared.trust.datetimes import format_datetime
from shared.trust.member_keys import MemberKeys
from tests.browser.conftest import Browser
from tests.browser.stack import Stack
from tests.browser.test_browser_onboarding import ask, restore

BALLOT = "/app/js/ballot.js"
VOTER = "did:key:z6MkvoterVoterVoterVoterVoterVoterVoterVoterVoter"


def encrypt_in_browser(browser: Browser, stack: Stack, poll: PollKey, votes: list[int]) -> Any:
    if not browser.page.url.startswith(stack.base):
        browser.page.goto(f"{stack.base}/app/#/")
    return browser.page.evaluate(
        """async ([path, poll, voter, votes]) => {
          const b = await import(path);
          try { return await b.encryptBallot(poll, voter, votes); }
          catch (error) { return { error: error.message }; }
        }""",
        [
            BALLOT,
            {"pollId": poll.poll_id, "publicKey": poll.public_key, "rules": msgspec.to_builtins(poll.rules)},
            VOTER,
            votes,
        ],
    )


@pytest.mark.parametrize(
    ("rules", "votes"),
    [
        (BallotRules(options=2, min_total=1, max_total=1, implicit_last=True), [0, 1]),
        (BallotRules(options=3, min_total=1, max_total=1, implicit_last=True), [0, 1, 0]),
        (BallotRules(options=3, min_total=1, max_total=2), [1, 0, 1]),
        (BallotRules(options=2, max_per_option=3), [3, 0]),
    ],
    ids=["yes-no", "one-of-three", "two-of-three", "score"],
)
def test_a_ballot_encrypted_in_the_browser_verifies_and_decrypts_in_python(
    shared_browser: Browser, stack: Stack, rules: BallotRules, votes: list[int]
) -> None:
    secret, public = generate_keypair(SystemRandomness())
    poll = PollKey(poll_id="demo.poll.budget", public_key=point_hex(public), rules=rules)
    made = encrypt_in_browser(shared_browser, stack, poll, votes)
    ballot = msgspec.convert(made["ballot"], EncryptedBallot)
    check = verify_ballot(poll, ballot, made["tracker"])
    assert (check.valid, check.reason) == (True, "")
    decrypted = [decrypt(secret, decode_ciphertext(c), rules.max_per_option) for c in ballot.choices]
    assert rules.full_counts(decrypted, 1) == tuple(votes)
    # The ballot is bound to its voter: under another name its proofs fail.
    moved = msgspec.structs.replace(ballot, voter="did:key:z6MkotherOtherOther")
    assert not verify_ballot(poll, moved).valid
    assert shared_browser.errors == []


def test_a_forbidden_or_malformed_ballot_is_refused_in_the_browser(
    shared_browser: Browser, stack: Stack
) -> None:
    _, public = generate_keypair(SystemRandomness())
    rules = BallotRules(options=3, min_total=1, max_total=1, implicit_last=True)
    poll = PollKey(poll_id="demo.poll.x", public_key=point_hex(public), rules=rules)
    assert encrypt_in_browser(shared_browser, stack, poll, [1, 1, 0]) == {
        "error": "the vote breaks the poll's rules"
    }
    bad = PollKey(poll_id="demo.poll.x", public_key="ff" * 32, rules=rules)
    assert "point" in encrypt_in_browser(shared_browser, stack, bad, [1, 0, 0])["error"]


def signed(stack: Stack, name: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    keys = MemberKeys.from_phrase(stack.phrase(name))
    statement = sign_statement(
        keys,
        action=action,
        community="demo",
        body=body,
        nonce=secrets.token_hex(16),
        now=datetime.now(tz=UTC),
    )
    return {"community": "demo", "statement": statement}


def test_a_member_casts_a_secret_ballot_from_the_app_and_finds_its_tracker(
    browser: Browser, stack: Stack
) -> None:
    # A secret poll whose two trustees (the admins) run the key ceremony over the bus.
    trustees = [ADMINS[0].name, ADMINS[1].name]
    dids = [MemberKeys.from_phrase(stack.phrase(t)).did for t in trustees]
    spec = {
        "kind": "single",
        "title": "Who keeps the shop keys?",
        "options": ["Ada", "Ben", "Cleo"],
        "secret": {"trustees": dids, "threshold": 2},
    }
    closes = format_datetime(datetime.now(tz=UTC) + timedelta(days=3))
    created = ask(
        stack,
        "governance",
        "create_poll",
        signed(stack, trustees[0], "governance.create_poll", {"spec": spec, "closes_at": closes}),
    )
    poll, crypto_id = created["poll"], created["crypto_poll_id"]
    rng = DeterministicRandomness(poll.encode())
    dealt = [deal(crypto_id, i, 2, 2, rng) for i in (1, 2)]
    for name, (commitment, _) in zip(trustees, dealt, strict=True):
        body = {"poll": poll, "commitment": msgspec.to_builtins(commitment)}
        opened = ask(
            stack, "governance", "commit_trustee", signed(stack, name, "governance.commit_trustee", body)
        )
    assert opened["status"] == "open"

    voter = MEMBERS[1].name
    page = browser.page
    restore(page, stack, stack.phrase(voter))
    page.goto(f"{stack.base}/app/#/polls?poll={poll}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Who keeps the shop keys?")
    page.get_by_label("Cleo").check()
    page.get_by_role("button", name="Sign and cast my vote").click()
    expect(page.get_by_test_id("my-ballot")).to_contain_text("tracker")
    browser.screenshot("secret-ballot")

    # On the board: encrypted (no choice in clear), valid for the poll's key, under her name.
    board = ask(stack, "governance", "board", {"community": "demo", "poll": poll})
    did = MemberKeys.from_phrase(stack.phrase(voter)).did
    (entry,) = [b for b in board["ballots"] if b["voter"] == did]
    assert "choice" not in entry
    found = ask(stack, "governance", "get_poll", {"community": "demo", "poll": poll})
    key = PollKey(
        poll_id=crypto_id,
        public_key=found["public_key"],
        rules=msgspec.convert(found["ballot_rules"], BallotRules),
    )
    check = verify_ballot(key, msgspec.convert(entry["ballot"], EncryptedBallot), entry["tracker"])
    assert (check.valid, check.reason) == (True, "")

    # She looks her tracker up on the board from the app.
    page.get_by_label("Ballot tracker").fill(entry["tracker"])
    page.get_by_role("button", name="Find my ballot").click()
    expect(page.get_by_test_id("tracker-result")).to_contain_text("On the board and counted")
    page.get_by_label("Ballot tracker").fill("not-a-tracker")
    page.get_by_role("button", name="Find my ballot").click()
    expect(page.get_by_test_id("tracker-result")).to_contain_text("No counted ballot")
    assert browser.errors == []
