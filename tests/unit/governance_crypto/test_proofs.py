"""Zero-knowledge proofs: honest ones verify; false statements, tampering and replays do not."""

from __future__ import annotations

import pytest

from services.governance.crypto import DeterministicRandomness, Proof
from services.governance.crypto.elgamal import decryption_factor, encrypt, generate_keypair
from services.governance.crypto.group import ORDER, base_mul, mul, scalar_from_hex, scalar_hex
from services.governance.crypto.proofs import (
    prove_decryption,
    prove_knowledge,
    prove_range,
    verify_decryption,
    verify_knowledge,
    verify_range,
)

STATEMENT = [b"poll", b"voter-a", b"option-0"]
ZERO_OR_ONE = [0, 1]


@pytest.mark.parametrize(
    ("message", "allowed"), [(0, [0, 1]), (1, [0, 1]), (3, list(range(6))), (2, [1, 2, 3])]
)
def test_an_honest_range_proof_verifies(
    message: int, allowed: list[int], rng: DeterministicRandomness
) -> None:
    _, public = generate_keypair(rng)
    r = rng.scalar()
    ciphertext = encrypt(public, message, r)
    proof = prove_range(public, ciphertext, r, message, allowed, STATEMENT, rng)
    assert verify_range(public, ciphertext, allowed, proof, STATEMENT)


def test_there_is_no_honest_proof_that_two_is_zero_or_one(rng: DeterministicRandomness) -> None:
    _, public = generate_keypair(rng)
    r = rng.scalar()
    two = encrypt(public, 2, r)
    with pytest.raises(ValueError, match="not one of the allowed"):
        prove_range(public, two, r, 2, ZERO_OR_ONE, STATEMENT, rng)
    # Running the prover while lying about the plaintext yields a proof that does not verify.
    for claimed in ZERO_OR_ONE:
        lie = prove_range(public, two, r, claimed, ZERO_OR_ONE, STATEMENT, rng)
        assert not verify_range(public, two, ZERO_OR_ONE, lie, STATEMENT)


def test_a_range_proof_is_bound_to_its_statement_and_ciphertext(rng: DeterministicRandomness) -> None:
    _, public = generate_keypair(rng)
    r = rng.scalar()
    ciphertext = encrypt(public, 1, r)
    proof = prove_range(public, ciphertext, r, 1, ZERO_OR_ONE, STATEMENT, rng)
    other_voter = [b"poll", b"voter-b", b"option-0"]
    assert not verify_range(public, ciphertext, ZERO_OR_ONE, proof, other_voter)
    assert not verify_range(public, encrypt(public, 1, rng.scalar()), ZERO_OR_ONE, proof, STATEMENT)
    assert not verify_range(public, ciphertext, [0, 1, 2], proof, STATEMENT)
    _, other_key = generate_keypair(rng)
    assert not verify_range(other_key, ciphertext, ZERO_OR_ONE, proof, STATEMENT)


def _shift(proof: Proof, field: str) -> Proof:
    value = (scalar_from_hex(getattr(proof, field)) + 1) % ORDER
    return Proof(**{"challenge": proof.challenge, "response": proof.response, field: scalar_hex(value)})


@pytest.mark.parametrize("field", ["challenge", "response"])
def test_a_mutated_range_proof_is_rejected(field: str, rng: DeterministicRandomness) -> None:
    _, public = generate_keypair(rng)
    r = rng.scalar()
    ciphertext = encrypt(public, 0, r)
    proof = prove_range(public, ciphertext, r, 0, ZERO_OR_ONE, STATEMENT, rng)
    for index in range(len(proof)):
        mutated = tuple(_shift(p, field) if i == index else p for i, p in enumerate(proof))
        assert not verify_range(public, ciphertext, ZERO_OR_ONE, mutated, STATEMENT)
    unreduced = Proof(challenge=ORDER.to_bytes(32, "little").hex(), response=proof[0].response)
    assert not verify_range(public, ciphertext, ZERO_OR_ONE, (unreduced, proof[1]), STATEMENT)
    assert not verify_range(public, ciphertext, ZERO_OR_ONE, proof[:1], STATEMENT)


def test_a_decryption_factor_is_proven_and_a_wrong_one_is_caught(rng: DeterministicRandomness) -> None:
    secret, public = generate_keypair(rng)
    alpha = encrypt(public, 1, rng.scalar())[0]
    factor = decryption_factor(secret, (alpha, alpha))
    proof = prove_decryption(secret, alpha, factor, STATEMENT, rng)
    assert verify_decryption(public, alpha, factor, proof, STATEMENT)
    wrong = mul(factor, 2)
    assert not verify_decryption(public, alpha, wrong, proof, STATEMENT)
    assert not verify_decryption(
        public, alpha, wrong, prove_decryption(secret, alpha, wrong, STATEMENT, rng), STATEMENT
    )
    assert not verify_decryption(public, alpha, factor, proof, [b"another", b"context"])


def test_a_proof_of_knowledge_verifies_only_for_its_key_and_statement(rng: DeterministicRandomness) -> None:
    secret = rng.scalar()
    proof = prove_knowledge(secret, STATEMENT, rng)
    assert verify_knowledge(base_mul(secret), proof, STATEMENT)
    assert not verify_knowledge(base_mul(secret + 1), proof, STATEMENT)
    assert not verify_knowledge(base_mul(secret), proof, [b"elsewhere"])
