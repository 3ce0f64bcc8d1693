"""Exponential ElGamal: encryptions add up and decrypt by a bounded discrete logarithm."""

from __future__ import annotations

import pytest

from services.governance.crypto import DecryptionFailed, DeterministicRandomness
from services.governance.crypto.elgamal import (
    ZERO,
    add_ciphertexts,
    decode_ciphertext,
    decrypt,
    discrete_log,
    encode_ciphertext,
    encrypt,
    generate_keypair,
)
from services.governance.crypto.group import base_mul


@pytest.mark.parametrize("message", [0, 1, 5, 999, 100_000])
def test_a_message_decrypts_to_itself(message: int, rng: DeterministicRandomness) -> None:
    secret, public = generate_keypair(rng)
    ciphertext = encrypt(public, message, rng.scalar())
    assert decrypt(secret, ciphertext, 100_000) == message


def test_the_sum_of_ciphertexts_decrypts_to_the_sum_of_messages(rng: DeterministicRandomness) -> None:
    secret, public = generate_keypair(rng)
    total = ZERO
    for message in [1, 0, 1, 1, 5, 0]:
        total = add_ciphertexts(total, encrypt(public, message, rng.scalar()))
    assert decrypt(secret, total, 6 * 5) == 8
    assert decrypt(secret, ZERO, 10) == 0


def test_a_plaintext_beyond_the_bound_is_refused_not_misread(rng: DeterministicRandomness) -> None:
    secret, public = generate_keypair(rng)
    with pytest.raises(DecryptionFailed):
        decrypt(secret, encrypt(public, 50, rng.scalar()), 49)
    with pytest.raises(DecryptionFailed):
        discrete_log(base_mul(rng.scalar()), 1000)


def test_encryption_is_randomised_and_survives_its_encoding(rng: DeterministicRandomness) -> None:
    _, public = generate_keypair(rng)
    first, second = encrypt(public, 1, rng.scalar()), encrypt(public, 1, rng.scalar())
    assert first != second
    assert decode_ciphertext(encode_ciphertext(first)) == first


def test_the_same_seed_gives_the_same_key_and_ciphertext() -> None:
    def run(seed: bytes) -> tuple[bytes, bytes]:
        source = DeterministicRandomness(seed)
        _, public = generate_keypair(source)
        return encrypt(public, 3, source.scalar())

    assert run(b"a") == run(b"a")
    assert run(b"a") != run(b"b")
