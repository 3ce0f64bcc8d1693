"""did:key specification vectors: the appendix documents and identifiers, and the seed vectors."""

from __future__ import annotations

import base64
import json
from typing import Any

import base58
import pytest

from shared.signing import SigningKey
from shared.trust.did_key import did_key_document, parse_did_key
from shared.trust.errors import DidError, DidFailure
from shared.trust.x25519 import (
    x25519_multikey_encode,
    x25519_private_key_from_ed25519_seed,
    x25519_public_key_from_ed25519,
)

from .vectors import VECTORS

DID_KEY = VECTORS / "did-key"
IDENTIFIERS: dict[str, list[str]] = json.loads((DID_KEY / "spec-appendix-identifiers.json").read_text())
SEED_VECTORS: dict[str, dict[str, Any]] = json.loads((DID_KEY / "ed25519-x25519.json").read_text())
OTHER_KEY_TYPES = [did for kind, dids in IDENTIFIERS.items() if kind != "ed25519" for did in dids]


def test_resolution_reproduces_the_specification_example_document() -> None:
    expected = json.loads((DID_KEY / "spec-appendix-ed25519-x25519.json").read_text())

    document = did_key_document(expected["id"])

    assert document == expected
    assert list(document) == list(expected)
    assert list(document["verificationMethod"][0]) == list(expected["verificationMethod"][0])


@pytest.mark.parametrize("did", IDENTIFIERS["ed25519"])
def test_appendix_ed25519_identifiers_resolve_to_their_own_key(did: str) -> None:
    document = did_key_document(did)
    multibase = did.removeprefix("did:key:")

    assert document["id"] == did
    assert document["verificationMethod"][0]["id"] == f"{did}#{multibase}"
    assert document["assertionMethod"] == [f"{did}#{multibase}"]
    assert document["keyAgreement"][0]["publicKeyMultibase"].startswith("z6LS")


@pytest.mark.parametrize("did", OTHER_KEY_TYPES)
def test_appendix_identifiers_of_other_key_types_are_refused_as_unsupported(did: str) -> None:
    with pytest.raises(DidError) as caught:
        parse_did_key(did)

    assert caught.value.reason is DidFailure.UNSUPPORTED_PUBLIC_KEY_TYPE


def _public_bytes(key_pair: dict[str, Any]) -> bytes:
    """The public key of a vector key pair, written either as base58 or as a JWK."""
    if "publicKeyBase58" in key_pair:
        return base58.b58decode(key_pair["publicKeyBase58"])
    return _base64url(key_pair["publicKeyJwk"]["x"])


def _private_bytes(key_pair: dict[str, Any]) -> bytes:
    if "privateKeyBase58" in key_pair:
        return base58.b58decode(key_pair["privateKeyBase58"])
    return _base64url(key_pair["privateKeyJwk"]["d"])


def _base64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@pytest.mark.parametrize("did", sorted(SEED_VECTORS))
def test_seed_vectors_give_the_did_and_the_x25519_key_pair(did: str) -> None:
    vector = SEED_VECTORS[did]
    seed = bytes.fromhex(vector["seed"])
    key = SigningKey(seed)
    agreement = vector["keyAgreementKeyPair"]
    x25519_public = x25519_public_key_from_ed25519(key.public_key)

    assert key.key_id == did
    assert key.public_key == _public_bytes(vector["verificationKeyPair"])
    assert x25519_public == _public_bytes(agreement)
    assert x25519_private_key_from_ed25519_seed(seed) == _private_bytes(agreement)
    assert agreement["id"].endswith("#" + x25519_multikey_encode(x25519_public))


@pytest.mark.parametrize("did", sorted(SEED_VECTORS))
def test_seed_vector_documents_name_the_same_key_agreement_key(did: str) -> None:
    expected_key_agreement = SEED_VECTORS[did]["didDocument"]["keyAgreement"]

    document = did_key_document(did)

    assert [method["id"] for method in document["keyAgreement"]] == expected_key_agreement
