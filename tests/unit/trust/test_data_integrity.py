"""eddsa-jcs-2022 proofs: a signed document verifies, and each kind of damage has its own reason."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import base58
import pytest

from shared.trust.data_integrity import (
    add_proof,
    hash_data,
    proof_configuration,
    proof_options,
    transform,
    verify_proof,
)
from shared.trust.errors import ProofError, ProofFailure
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import default_resolver

from .vectors import ZERO_PHRASE

OTHER_PHRASE = " ".join(["zoo"] * 23 + ["vote"])


@pytest.fixture
def keys() -> MemberKeys:
    return MemberKeys.from_phrase(ZERO_PHRASE)


@pytest.fixture
def signed(keys: MemberKeys, now: datetime) -> dict[str, Any]:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": keys.did,
        "credentialSubject": {"id": "did:example:ada", "role": "member"},
    }
    return add_proof(document, proof_options(keys.verification_method, now), keys.signing_key)


def _reason(document: object, **kwargs: Any) -> ProofFailure:
    with pytest.raises(ProofError) as caught:
        verify_proof(document, default_resolver(), **kwargs)
    assert str(caught.value)
    return caught.value.reason


def test_a_signed_document_verifies_and_names_its_key(keys: MemberKeys, signed: dict[str, Any]) -> None:
    verified = verify_proof(signed, default_resolver(), expected_controller=keys.did)

    assert verified.verification_method.id == keys.verification_method
    assert verified.verification_method.controller == keys.did
    assert "proof" not in verified.document


def test_the_proof_is_a_data_integrity_proof_bound_to_the_documents_context(
    signed: dict[str, Any],
) -> None:
    proof = signed["proof"]

    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["created"] == "2025-06-01T12:00:00Z"
    assert proof["@context"] == signed["@context"]
    assert proof["proofValue"].startswith("z")
    assert len(base58.b58decode(proof["proofValue"][1:])) == 64


def test_member_order_does_not_matter_because_jcs_canonicalises(signed: dict[str, Any]) -> None:
    reordered = dict(reversed(list(signed.items())))

    verify_proof(reordered, default_resolver())


@pytest.mark.parametrize(
    "path",
    [
        ("credentialSubject", "role"),
        ("issuer",),
        ("proof", "created"),
        ("proof", "verificationMethod"),
    ],
)
def test_an_altered_field_breaks_the_signature(signed: dict[str, Any], path: tuple[str, ...]) -> None:
    altered = copy.deepcopy(signed)
    target = altered
    for name in path[:-1]:
        target = target[name]
    if path == ("proof", "verificationMethod"):
        other = MemberKeys.from_phrase(OTHER_PHRASE)
        target[path[-1]] = other.verification_method
    elif path == ("issuer",):
        target[path[-1]] = "did:example:mallory"
    else:
        target[path[-1]] = "2025-06-01T12:00:01Z" if path[-1] == "created" else "admin"

    assert _reason(altered) is ProofFailure.INVALID_SIGNATURE


def test_an_added_field_breaks_the_signature(signed: dict[str, Any]) -> None:
    assert _reason({**signed, "extra": True}) is ProofFailure.INVALID_SIGNATURE


@pytest.mark.parametrize(
    ("cryptosuite", "reason"),
    [("eddsa-rdfc-2022", ProofFailure.WRONG_CRYPTOSUITE), (None, ProofFailure.WRONG_CRYPTOSUITE)],
)
def test_a_wrong_cryptosuite_is_refused(
    signed: dict[str, Any], cryptosuite: str | None, reason: ProofFailure
) -> None:
    altered = copy.deepcopy(signed)
    altered["proof"]["cryptosuite"] = cryptosuite

    assert _reason(altered) is reason


def test_a_wrong_proof_type_is_refused(signed: dict[str, Any]) -> None:
    altered = copy.deepcopy(signed)
    altered["proof"]["type"] = "Ed25519Signature2020"

    assert _reason(altered) is ProofFailure.WRONG_PROOF_TYPE


def test_a_missing_proof_is_refused(signed: dict[str, Any]) -> None:
    unsigned = {name: value for name, value in signed.items() if name != "proof"}

    assert _reason(unsigned) is ProofFailure.MISSING_PROOF


def test_a_missing_proof_value_is_refused(signed: dict[str, Any]) -> None:
    altered = copy.deepcopy(signed)
    del altered["proof"]["proofValue"]

    assert _reason(altered) is ProofFailure.MISSING_PROOF_VALUE


@pytest.mark.parametrize(
    "proof_value",
    [
        "u" + "A" * 86,  # multibase base64url, not base58btc
        "z0OIl",  # not base58
        "z" + base58.b58encode(bytes(63)).decode(),  # a signature is 64 bytes
        12345,
    ],
    ids=["wrong-multibase", "not-base58", "wrong-length", "not-a-string"],
)
def test_an_invalid_proof_value_is_refused(signed: dict[str, Any], proof_value: object) -> None:
    altered = copy.deepcopy(signed)
    altered["proof"]["proofValue"] = proof_value

    assert _reason(altered) is ProofFailure.MALFORMED_PROOF_VALUE


def test_a_verification_method_that_is_not_the_issuers_key_is_refused(
    now: datetime,
) -> None:
    issuer = MemberKeys.from_phrase(ZERO_PHRASE)
    impostor = MemberKeys.from_phrase(OTHER_PHRASE)
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "issuer": issuer.did}
    forged = add_proof(document, proof_options(impostor.verification_method, now), impostor.signing_key)

    reason = _reason(forged, expected_controller=issuer.did)

    assert reason is ProofFailure.VERIFICATION_METHOD_NOT_ISSUER


def test_a_verification_method_missing_from_the_did_document_is_refused(
    keys: MemberKeys, now: datetime
) -> None:
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"]}
    options = proof_options(f"{keys.did}#not-a-key", now)

    assert _reason(add_proof(document, options, keys.signing_key)) is (
        ProofFailure.UNKNOWN_VERIFICATION_METHOD
    )


def test_a_key_agreement_key_cannot_sign_assertions(keys: MemberKeys, now: datetime) -> None:
    x25519_id = default_resolver().resolve(keys.did)["keyAgreement"][0]["id"]
    options = proof_options(x25519_id, now)

    signed = add_proof({"a": 1}, options, keys.signing_key)

    assert _reason(signed) is ProofFailure.UNKNOWN_VERIFICATION_METHOD


def test_a_verification_method_of_an_unsupported_did_method_is_refused(
    keys: MemberKeys, now: datetime
) -> None:
    options = proof_options("did:web:example.com#key-1", now)

    signed = add_proof({"a": 1}, options, keys.signing_key)

    assert _reason(signed) is ProofFailure.UNRESOLVABLE_VERIFICATION_METHOD


def test_a_proof_for_another_purpose_is_refused(keys: MemberKeys, now: datetime) -> None:
    options = proof_options(keys.verification_method, now, proof_purpose="authentication")

    signed = add_proof({"a": 1}, options, keys.signing_key)

    assert _reason(signed) is ProofFailure.WRONG_PROOF_PURPOSE
    verify_proof(signed, default_resolver(), proof_purpose="authentication")


def test_a_document_whose_context_was_swapped_is_refused(signed: dict[str, Any]) -> None:
    altered = copy.deepcopy(signed)
    altered["@context"] = ["https://www.w3.org/ns/credentials/examples/v2"]

    assert _reason(altered) is ProofFailure.CONTEXT_MISMATCH


def test_a_proof_made_without_step_2_verifies_over_the_documents_context(
    keys: MemberKeys, now: datetime
) -> None:
    # Some implementations skip copying @context into the proof; the specification accepts that.
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "a": 1}
    proof = proof_options(keys.verification_method, now)
    signature = keys.signing_key.sign(hash_data(transform(document, proof), proof_configuration(proof)))
    secured = {**document, "proof": {**proof, "proofValue": _multibase(signature)}}

    verify_proof(secured, default_resolver())
    assert _reason({**secured, "a": 2}) is ProofFailure.INVALID_SIGNATURE


def _multibase(signature: bytes) -> str:
    return "z" + base58.b58encode(signature).decode()


def test_an_expired_proof_is_refused_only_after_it_expires(keys: MemberKeys, now: datetime) -> None:
    options = {**proof_options(keys.verification_method, now), "expires": "2025-06-02T00:00:00Z"}
    signed = add_proof({"a": 1}, options, keys.signing_key)

    verify_proof(signed, default_resolver(), now=now)
    assert _reason(signed, now=now + timedelta(days=2)) is ProofFailure.PROOF_EXPIRED


def test_an_invalid_created_value_is_refused(keys: MemberKeys, now: datetime) -> None:
    options = {**proof_options(keys.verification_method, now), "created": "yesterday"}

    with pytest.raises(ProofError) as caught:
        add_proof({"a": 1}, options, keys.signing_key)

    assert caught.value.reason is ProofFailure.INVALID_CREATED


def test_proof_sets_and_non_objects_are_refused(signed: dict[str, Any]) -> None:
    assert _reason({**signed, "proof": [signed["proof"]]}) is ProofFailure.UNSUPPORTED_PROOF_SET
    assert _reason([signed]) is ProofFailure.MALFORMED_DOCUMENT
    assert _reason({**signed, "proof": "z123"}) is ProofFailure.MALFORMED_DOCUMENT


def test_a_document_that_jcs_cannot_represent_is_refused(keys: MemberKeys, now: datetime) -> None:
    options = proof_options(keys.verification_method, now)

    with pytest.raises(ProofError) as caught:
        add_proof({"too_big": 2**60}, options, keys.signing_key)

    assert caught.value.reason is ProofFailure.MALFORMED_DOCUMENT
