"""W3C vc-di-eddsa TestVectors/eddsa-jcs-2022: every intermediate value, then the signed document."""

from __future__ import annotations

import json
from typing import Any

import base58
import pytest

from shared.multikey import multikey_encode
from shared.signing import SigningKey
from shared.trust.data_integrity import (
    add_proof,
    hash_data,
    proof_configuration,
    transform,
    verify_proof,
)
from shared.trust.resolver import default_resolver
from shared.trust.secret_multikey import secret_multikey_decode

from .vectors import VECTORS

SUITE = VECTORS / "vc-di-eddsa"
JCS = SUITE / "eddsa-jcs-2022"


def _json(name: str) -> Any:
    return json.loads((SUITE / name).read_text())


def _text(name: str) -> str:
    return (JCS / name).read_text().strip()


@pytest.fixture
def key() -> SigningKey:
    pair = _json("keyPair.json")
    key = SigningKey(secret_multikey_decode(pair["privateKeyMultibase"]))
    assert multikey_encode(key.public_key) == pair["publicKeyMultibase"]
    return key


@pytest.fixture
def unsigned() -> dict[str, Any]:
    document: dict[str, Any] = _json("unsigned.json")
    return document


@pytest.fixture
def proof_config() -> dict[str, Any]:
    config: dict[str, Any] = _json("eddsa-jcs-2022/proofConfigJCS.json")
    return config


def test_transformation_gives_the_canonical_document(
    unsigned: dict[str, Any], proof_config: dict[str, Any]
) -> None:
    assert transform(unsigned, proof_config) == (JCS / "canonDocJCS.txt").read_bytes()


def test_proof_configuration_gives_the_canonical_proof_config(
    proof_config: dict[str, Any],
) -> None:
    assert proof_configuration(proof_config) == (JCS / "proofCanonJCS.txt").read_bytes()


def test_hashing_gives_both_hashes_joined_proof_config_first(
    unsigned: dict[str, Any], proof_config: dict[str, Any]
) -> None:
    combined = hash_data(transform(unsigned, proof_config), proof_configuration(proof_config))

    assert combined[:32].hex() == _text("proofHashJCS.txt")
    assert combined[32:].hex() == _text("docHashJCS.txt")
    assert combined.hex() == _text("combinedHashJCS.txt")


def test_signing_the_hash_gives_the_signature_and_proof_value(
    key: SigningKey, unsigned: dict[str, Any], proof_config: dict[str, Any]
) -> None:
    signature = key.sign(hash_data(transform(unsigned, proof_config), proof_configuration(proof_config)))

    assert signature.hex() == _text("sigHexJCS.txt")
    assert "z" + base58.b58encode(signature).decode() == _text("sigBTC58JCS.txt")


def test_adding_a_proof_gives_the_signed_document(
    key: SigningKey, unsigned: dict[str, Any], proof_config: dict[str, Any]
) -> None:
    options = {name: value for name, value in proof_config.items() if name != "@context"}

    signed = add_proof(unsigned, options, key)

    assert signed == _json("eddsa-jcs-2022/signedJCS.json")


def test_the_published_signed_document_verifies() -> None:
    signed = _json("eddsa-jcs-2022/signedJCS.json")

    verified = verify_proof(signed, default_resolver())

    assert verified.verification_method.id == signed["proof"]["verificationMethod"]
    assert verified.document == _json("unsigned.json")
