"""Vault keys from the recovery phrase: HKDF (RFC 5869 vectors), a branch apart from the signing key."""

from __future__ import annotations

import pytest

from services.social.client.vault_crypto import VaultDecryptionError, VaultKeys, VaultPlaintext, hkdf_sha256
from shared.trust.recovery import new_phrase


def test_hkdf_matches_rfc_5869_test_cases_1_and_3() -> None:
    ikm = bytes([0x0B] * 22)
    case_1 = hkdf_sha256(ikm, bytes(range(0xF0, 0xFA)), 42, salt=bytes(range(0x0D)))
    assert case_1.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )
    case_3 = hkdf_sha256(ikm, b"", 42)
    assert case_3.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


def test_the_same_phrase_gives_the_same_keys_and_the_vault_key_is_not_the_signing_key() -> None:
    phrase = new_phrase()
    one, two = VaultKeys.from_phrase(phrase), VaultKeys.from_phrase(phrase)
    assert (one.encryption_key, one.item_id("notes"), one.member.did) == (
        two.encryption_key,
        two.item_id("notes"),
        two.member.did,
    )
    assert one.encryption_key not in (one.member.signing_key.seed, one.item_id_key)
    assert VaultKeys.from_phrase(new_phrase()).encryption_key != one.encryption_key


def test_a_sealed_item_opens_only_as_itself() -> None:
    keys = VaultKeys.from_phrase(new_phrase())
    item, ciphertext, nonce = keys.seal("acme", VaultPlaintext("n", "note", b"hello"), 1)
    assert keys.open("acme", item, 1, ciphertext, nonce).content == b"hello"
    for community, other_item, version in (("other", item, 1), ("acme", "ff" * 24, 1), ("acme", item, 2)):
        with pytest.raises(VaultDecryptionError):
            keys.open(community, other_item, version, ciphertext, nonce)
    with pytest.raises(ValueError, match="one of"):
        keys.seal("acme", VaultPlaintext("n", "photo", b""), 1)
