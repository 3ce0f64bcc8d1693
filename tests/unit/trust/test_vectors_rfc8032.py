"""RFC 8032 section 7.1 Ed25519 vectors: the signing key derives each public key and signature."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.signing import BadSignature, SigningKey, verify_detached

from .vectors import VECTORS

VECTORS_FILE = json.loads((VECTORS / "rfc8032" / "ed25519-section-7.1.json").read_text())
CASES: list[dict[str, Any]] = VECTORS_FILE["vectors"]


def test_the_file_holds_the_five_named_vectors() -> None:
    assert [case["name"] for case in CASES] == [
        "TEST 1",
        "TEST 2",
        "TEST 3",
        "TEST 1024",
        "TEST SHA(abc)",
    ]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_signing_reproduces_the_public_key_and_signature(case: dict[str, Any]) -> None:
    key = SigningKey(bytes.fromhex(case["secretKey"]))
    message = bytes.fromhex(case["message"])

    assert key.public_key.hex() == case["publicKey"]
    assert key.sign(message).hex() == case["signature"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_signature_verifies_and_a_changed_message_does_not(case: dict[str, Any]) -> None:
    public_key = bytes.fromhex(case["publicKey"])
    message = bytes.fromhex(case["message"])
    signature = bytes.fromhex(case["signature"])

    verify_detached(message, signature, public_key)
    with pytest.raises(BadSignature):
        verify_detached(message + b"\x00", signature, public_key)
