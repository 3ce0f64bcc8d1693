"""VCDM 2.0 credentials: issued by a member's did:key, verified against a clock passed in."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.trust.credentials import VC_V2_CONTEXT, issue_credential, verify_credential
from shared.trust.errors import CredentialError, CredentialFailure, ProofError, ProofFailure
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import default_resolver

from .vectors import ZERO_PHRASE


@pytest.fixture
def keys() -> MemberKeys:
    return MemberKeys.from_phrase(ZERO_PHRASE)


@pytest.fixture
def unsigned() -> dict[str, Any]:
    return {
        "@context": [VC_V2_CONTEXT],
        "id": "urn:uuid:0b5c1a2e-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "MembershipCredential"],
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ada"},
    }


def _credential_reason(credential: object, now: datetime) -> CredentialFailure:
    with pytest.raises(CredentialError) as caught:
        verify_credential(credential, default_resolver(), now=now)
    return caught.value.reason


def test_an_issued_credential_verifies_with_its_issuer_and_key(
    keys: MemberKeys, unsigned: dict[str, Any], now: datetime
) -> None:
    signed = issue_credential(unsigned, keys, created=now)

    verified = verify_credential(signed, default_resolver(), now=now)

    assert verified.issuer == keys.did
    assert verified.verification_method == keys.verification_method
    assert signed["issuer"] == keys.did
    assert list(signed)[:4] == ["@context", "id", "type", "issuer"]
    assert "proof" not in unsigned


def test_an_issuer_object_with_the_members_did_is_kept(
    keys: MemberKeys, unsigned: dict[str, Any], now: datetime
) -> None:
    issuer = {"id": keys.did, "name": "Ada's community"}

    signed = issue_credential({**unsigned, "issuer": issuer}, keys, created=now)

    assert signed["issuer"] == issuer
    assert verify_credential(signed, default_resolver(), now=now).issuer == keys.did


def test_a_credential_naming_another_issuer_is_not_signed(
    keys: MemberKeys, unsigned: dict[str, Any], now: datetime
) -> None:
    with pytest.raises(CredentialError) as caught:
        issue_credential({**unsigned, "issuer": "did:example:someone"}, keys, created=now)

    assert caught.value.reason is CredentialFailure.ISSUER_MISMATCH


def test_a_signed_credential_is_not_signed_again(
    keys: MemberKeys, unsigned: dict[str, Any], now: datetime
) -> None:
    signed = issue_credential(unsigned, keys, created=now)

    with pytest.raises(CredentialError) as caught:
        issue_credential(signed, keys, created=now)

    assert caught.value.reason is CredentialFailure.ALREADY_SIGNED


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"@context": ["https://www.w3.org/2018/credentials/v1"]}, CredentialFailure.NOT_A_CREDENTIAL),
        ({"type": ["MembershipCredential"]}, CredentialFailure.NOT_A_CREDENTIAL),
        ({"credentialSubject": None}, CredentialFailure.NOT_A_CREDENTIAL),
        ({"validFrom": "2025-01-01"}, CredentialFailure.INVALID_DATETIME),
        ({"validUntil": "2026-01-01T00:00:00"}, CredentialFailure.INVALID_DATETIME),
        ({"validFrom": "2025-02-30T00:00:00Z"}, CredentialFailure.INVALID_DATETIME),
    ],
    ids=["v1-context", "no-vc-type", "no-subject", "date-only", "no-timezone", "no-such-day"],
)
def test_credentials_that_are_not_vcdm_2_are_refused(
    keys: MemberKeys,
    unsigned: dict[str, Any],
    now: datetime,
    change: dict[str, Any],
    reason: CredentialFailure,
) -> None:
    with pytest.raises(CredentialError) as caught:
        issue_credential({**unsigned, **change}, keys, created=now)
    assert caught.value.reason is reason

    signed = issue_credential(unsigned, keys, created=now)
    assert _credential_reason({**signed, **change}, now) is reason


def test_validity_is_judged_at_the_instant_passed_in(
    keys: MemberKeys, unsigned: dict[str, Any], now: datetime
) -> None:
    signed = issue_credential(unsigned, keys, created=now)
    valid_from = datetime.fromisoformat("2025-01-01T00:00:00+00:00")
    valid_until = datetime.fromisoformat("2026-01-01T00:00:00+00:00")

    verify_credential(signed, default_resolver(), now=valid_from)
    verify_credential(signed, default_resolver(), now=valid_until)
    assert _credential_reason(signed, valid_from - timedelta(seconds=1)) is (CredentialFailure.NOT_YET_VALID)
    assert _credential_reason(signed, valid_until + timedelta(seconds=1)) is (CredentialFailure.EXPIRED)


def test_a_tampered_credential_reports_the_signature_before_anything_else(
    keys: MemberKeys, unsigned: dict[str, Any], now: datetime
) -> None:
    signed = issue_credential(unsigned, keys, created=now)
    tampered = copy.deepcopy(signed)
    tampered["validUntil"] = "2030-01-01T00:00:00Z"

    with pytest.raises(ProofError) as caught:
        verify_credential(tampered, default_resolver(), now=now)

    assert caught.value.reason is ProofFailure.INVALID_SIGNATURE


def test_a_credential_signed_by_a_key_other_than_its_issuers_is_refused(
    keys: MemberKeys, unsigned: dict[str, Any], now: datetime
) -> None:
    impostor = MemberKeys.from_phrase(" ".join(["zoo"] * 23 + ["vote"]))
    forged = issue_credential(unsigned, impostor, created=now)
    forged["issuer"] = keys.did

    with pytest.raises(ProofError) as caught:
        verify_credential(forged, default_resolver(), now=now)

    assert caught.value.reason is ProofFailure.VERIFICATION_METHOD_NOT_ISSUER


def test_a_credential_without_issuer_is_refused(
    keys: MemberKeys, unsigned: dict[str, Any], now: datetime
) -> None:
    signed = issue_credential(unsigned, keys, created=now)
    del signed["issuer"]

    assert _credential_reason(signed, now) is CredentialFailure.MISSING_ISSUER
