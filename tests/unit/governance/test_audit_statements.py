"""The auditor's own statement check agrees with the platform's verifier and with RFC 8785."""

from __future__ import annotations

import copy
import secrets
from datetime import UTC, datetime
from typing import Any

import base58
import pytest

from services.governance.audit_statements import base58_decode, jcs, statement_problem
from shared.signing import SigningKey
from shared.statements import sign_statement, verify_statement
from shared.trust.canonical_json import canonicalize
from shared.trust.member_keys import MemberKeys

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
AT_NS = int(NOW.timestamp()) * 10**9


def statement(body: dict[str, Any], keys: MemberKeys | None = None) -> tuple[MemberKeys, dict[str, Any]]:
    keys = keys or MemberKeys(SigningKey.generate())
    document = sign_statement(
        keys,
        action="governance.cast_ballot",
        community="acme",
        body=body,
        nonce=secrets.token_hex(16),
        now=NOW,
    )
    return keys, document


@pytest.mark.parametrize(
    "body",
    [
        {"poll": "p1", "choice": [0, 2]},
        {"poll": "p1", "ballot": {"choices": [{"alpha": "ab" * 32, "beta": "cd" * 32}], "total_proof": None}},
        {"poll": "p1", "text": "Ça va — «oui» 🗳️", "ctrl": "tab\there\u2028", "n": -(2**52)},
    ],
)
def test_a_sound_statement_passes_both_verifiers_and_jcs_matches_rfc_8785(body: dict[str, Any]) -> None:
    keys, document = statement(body)
    verify_statement(document, action="governance.cast_ballot", community="acme", now=NOW)
    assert (
        statement_problem(
            document, action="governance.cast_ballot", community="acme", actor=keys.did, at_ns=AT_NS
        )
        == ""
    )
    assert jcs(document) == canonicalize(document)


def test_altered_misdirected_late_or_borrowed_statements_are_named() -> None:
    keys, document = statement({"poll": "p1", "choice": [1]})

    def problem(doc: dict[str, Any], **overrides: Any) -> str:
        args: dict[str, Any] = {
            "action": "governance.cast_ballot",
            "community": "acme",
            "actor": keys.did,
            "at_ns": AT_NS,
        }
        return statement_problem(doc, **(args | overrides))

    altered = copy.deepcopy(document)
    altered["body"]["choice"] = [0]
    assert "does not verify" in problem(altered)
    assert "signed for" in problem(document, community="other")
    assert "signed for" in problem(document, action="governance.delegate")
    assert "outside" in problem(document, at_ns=AT_NS + 600 * 10**9)
    assert "signed by" in problem(document, actor=MemberKeys(SigningKey.generate()).did)
    other, _ = statement({})
    borrowed = copy.deepcopy(document)
    borrowed["actor"] = other.did
    assert problem(borrowed, actor=other.did)


def test_base58_decoding_matches_the_reference_library() -> None:
    for size in (0, 1, 31, 32, 34, 64):
        for lead in (0, 1, 3):
            raw = b"\x00" * lead + secrets.token_bytes(size)
            assert base58_decode(base58.b58encode(raw).decode()) == raw
    with pytest.raises(ValueError, match="base58"):
        base58_decode("0OIl")
