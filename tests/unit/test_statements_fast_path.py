"""The shared statement verifier's fast path decides exactly as the reference eddsa-jcs-2022 verifier.

`verify_statement(document, …)` takes the fast path; the same call with an explicit resolver takes
the reference (`verify_proof`). Many random statements, sound and tampered in random ways, must get
the same answer from both: the same VerifiedStatement, or the same refusal with the same message.
"""

from __future__ import annotations

import copy
import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.statements import StatementRejected, _base58_decode, _jcs, sign_statement, verify_statement
from shared.trust.canonical_json import JsonError, canonicalize
from shared.trust.errors import ProofError
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import default_resolver

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACTION = "membership.update_profile"
COMMUNITY = "riverside-coop"
ALPHABET = string.printable + "é中😀\u2028\x00\x7f\ue000"


def _text(rng: random.Random, limit: int = 12) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, limit)))


def _json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return _text(rng)
    if kind == 1:
        return rng.choice([0, 1, -1, 2**53 - 1, -(2**53) + 1, rng.randint(-(10**6), 10**6)])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.choice([0.5, 1.0, -2.25, 1e21, 1e-7, 2**53 + 1, 2**64])
    if kind in (4, 5):
        return _text(rng, 30)
    if kind in (6, 7):
        return {_key(rng): _json(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def _key(rng: random.Random) -> str:
    return rng.choice(["a", "B", "_", "z9", "é", "😀", "\ue000", "", "\x01"]) + _text(rng, 3)


def _outcome(document: Any, *, reference: bool) -> tuple[str, Any]:
    try:
        verified = verify_statement(
            document,
            action=ACTION,
            community=COMMUNITY,
            now=NOW,
            resolver=default_resolver() if reference else None,
        )
    except StatementRejected as exc:
        return "refused", (exc.code, exc.message)
    return "accepted", verified


def _tamper(rng: random.Random, document: dict[str, Any], others: list[MemberKeys]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    proof = changed["proof"]
    choice = rng.randrange(16)
    if choice == 0:
        changed["body"][_key(rng)] = _json(rng)
    elif choice == 1:
        value = proof["proofValue"]
        at = rng.randrange(1, len(value))
        proof["proofValue"] = value[:at] + rng.choice("1zZ0Il+ ") + value[at + 1 :]
    elif choice == 2:
        proof["proofValue"] = rng.choice(["", "z", "z1", "u" + proof["proofValue"][1:], 7, None])
    elif choice == 3:
        changed["actor"] = rng.choice(others).did
    elif choice == 4:
        proof["verificationMethod"] = rng.choice(
            [others[0].verification_method, changed["actor"], changed["actor"] + "#x", 5, "did:web:x#k"]
        )
    elif choice == 5:
        proof["proofPurpose"] = rng.choice(["assertionMethod", "", None])
    elif choice == 6:
        proof["@context"] = rng.choice([["https://example.org"], [], "https://www.w3.org/ns/credentials/v2"])
    elif choice == 7:
        del proof["@context"]
    elif choice == 8:
        proof["created"] = rng.choice(["2026-03-01T12:00:00", "yesterday", 17, "2026-13-01T00:00:00Z"])
    elif choice == 9:
        changed["proof"] = [proof]
    elif choice == 10:
        proof["cryptosuite"] = rng.choice(["eddsa-rdfc-2022", None])
    elif choice == 11:
        changed["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://example.org/extra"]
    elif choice == 12:
        changed["validUntil"] = rng.choice(["2026-03-01T13:00:00Z", "2026-02-01T00:00:00Z", "soon"])
    elif choice == 13:
        changed["action"] = "membership.leave"
    elif choice == 14:
        proof["expires"] = "2020-01-01T00:00:00Z"
    else:
        del changed["proof"]
    return changed


def test_fast_path_and_reference_agree_on_many_random_statements() -> None:
    rng = random.Random(20260301)
    members = [MemberKeys.from_seed(bytes([index]) * 32) for index in range(1, 9)]
    outcomes: dict[str, int] = {"accepted": 0, "refused": 0}
    for round_ in range(600):
        signer = rng.choice(members)
        try:
            document = sign_statement(
                signer,
                action=ACTION,
                community=COMMUNITY,
                body={_key(rng): _json(rng) for _ in range(rng.randint(0, 5))},
                nonce=f"nonce-{round_:06d}-{rng.getrandbits(64):x}",
                now=NOW - timedelta(seconds=rng.randint(0, 200)),
            )
        except ProofError:
            continue  # a body RFC 8785 cannot express (a float outside its domain) is never signed
        for candidate in (document, _tamper(rng, document, members), _tamper(rng, document, members)):
            fast, reference = _outcome(candidate, reference=False), _outcome(candidate, reference=True)
            assert fast == reference, candidate
            outcomes[fast[0]] += 1
    # Both kinds of answer were exercised in quantity.
    assert outcomes["accepted"] > 300
    assert outcomes["refused"] > 300


def test_fast_canonical_json_is_rfc_8785() -> None:
    rng = random.Random(8785)
    for _ in range(3000):
        value = {_key(rng): _json(rng) for _ in range(rng.randint(0, 6))}
        try:
            expected: bytes | None = canonicalize(value)
        except JsonError:
            expected = None
        try:
            produced: bytes | None = _jcs(value)
        except ValueError:
            produced = None
        assert produced == expected, value


@pytest.mark.parametrize(
    "text", ["", "1", "11", "z", "1112", "5Hue", "3mJr7AoUXx2Wqd", "1" * 5 + "zzzzzzzzzzz"]
)
def test_fast_base58_is_the_library_decoder(text: str) -> None:
    import base58

    assert _base58_decode(text) == base58.b58decode(text)


def test_fast_base58_refuses_characters_outside_the_alphabet() -> None:
    for bad in ("0", "O", "I", "l", "+", " "):
        with pytest.raises(KeyError):
            _base58_decode("abc" + bad)
