"""did:key parsing and resolution: malformed identifiers are refused with the specification's codes."""

from __future__ import annotations

import base58
import pytest

from shared.multikey import ED25519_PUB_PREFIX
from shared.trust.did_key import DID_CONTEXT, did_key_document, parse_did_key
from shared.trust.errors import DidError, DidFailure
from shared.trust.resolver import default_resolver

VALID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
KEY = base58.b58decode(VALID.removeprefix("did:key:z"))[2:]


def _did(raw: bytes) -> str:
    return "did:key:z" + base58.b58encode(raw).decode()


def test_a_valid_did_parses_to_its_key() -> None:
    parsed = parse_did_key(VALID)

    assert parsed.public_key == KEY
    assert parsed.verification_method_id == f"{VALID}#{VALID[8:]}"


def test_the_document_lists_the_key_under_every_signing_relationship() -> None:
    document = did_key_document(VALID)
    method_id = f"{VALID}#{VALID[8:]}"

    assert document["@context"] == [DID_CONTEXT]
    assert document["verificationMethod"] == [
        {
            "id": method_id,
            "type": "Multikey",
            "controller": VALID,
            "publicKeyMultibase": VALID[8:],
        }
    ]
    for relationship in (
        "authentication",
        "assertionMethod",
        "capabilityDelegation",
        "capabilityInvocation",
    ):
        assert document[relationship] == [method_id]
    assert document["keyAgreement"][0]["controller"] == VALID


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        ("did:web:example.com", DidFailure.INVALID_DID),
        ("dod:key:" + VALID[8:], DidFailure.INVALID_DID),
        ("did:key", DidFailure.INVALID_DID),
        ("did:key:", DidFailure.INVALID_DID),
        (VALID + "#" + VALID[8:], DidFailure.INVALID_DID),
        ("did:key:" + VALID[9:], DidFailure.INVALID_DID),
        ("did:key:z6Mk0OIl", DidFailure.INVALID_DID),
        ("did:key:one:" + VALID[8:], DidFailure.INVALID_DID),
        ("did:key:0:" + VALID[8:], DidFailure.INVALID_DID),
        ("did:key:z", DidFailure.INVALID_DID),
        (_did(ED25519_PUB_PREFIX + KEY[:31]), DidFailure.INVALID_PUBLIC_KEY_LENGTH),
        (_did(ED25519_PUB_PREFIX + KEY + b"\x00"), DidFailure.INVALID_PUBLIC_KEY_LENGTH),
        (_did(ED25519_PUB_PREFIX + bytes(32)), DidFailure.INVALID_PUBLIC_KEY),
        (_did(b"\xed\x81\x00" + KEY), DidFailure.INVALID_DID),
        (_did(b"\xec\x01" + KEY), DidFailure.UNSUPPORTED_PUBLIC_KEY_TYPE),
        (_did(b"\x00" + KEY), DidFailure.UNSUPPORTED_PUBLIC_KEY_TYPE),
    ],
    ids=[
        "other-method",
        "not-did-scheme",
        "too-few-parts",
        "empty-value",
        "did-url-with-fragment",
        "no-multibase-prefix",
        "not-base58",
        "version-not-integer",
        "version-zero",
        "no-key-bytes",
        "key-too-short",
        "key-too-long",
        "not-a-curve-point",
        "non-minimal-varint",
        "x25519-as-signing-key",
        "unknown-multicodec",
    ],
)
def test_malformed_dids_are_refused_with_a_specific_reason(did: str, reason: DidFailure) -> None:
    with pytest.raises(DidError) as caught:
        did_key_document(did)

    assert caught.value.reason is reason
    assert str(caught.value)


def test_the_explicit_version_form_is_accepted() -> None:
    did = "did:key:1:" + VALID[8:]

    assert did_key_document(did)["id"] == did


def test_the_resolver_routes_by_method_and_names_unsupported_ones() -> None:
    resolver = default_resolver()

    assert resolver.resolve(VALID)["id"] == VALID
    with pytest.raises(DidError) as caught:
        resolver.resolve("did:webvh:QmScid:example.com")
    assert caught.value.reason is DidFailure.METHOD_NOT_SUPPORTED
    assert "did:webvh" in str(caught.value)


def test_more_methods_plug_into_the_default_resolver() -> None:
    class StaticResolver:
        def resolve(self, did: str) -> dict[str, object]:
            return {"id": did}

    resolver = default_resolver({"example": StaticResolver()})

    assert resolver.resolve("did:example:123") == {"id": "did:example:123"}
    assert resolver.resolve(VALID)["id"] == VALID
