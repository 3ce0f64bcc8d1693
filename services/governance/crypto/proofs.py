"""Non-interactive zero-knowledge proofs (Chaum-Pedersen and Schnorr, made non-interactive by Fiat-Shamir).

Every proof is stored in the compact form (challenge, response) of the Belenios specification: the
verifier recomputes the commitments and checks that their hash gives back the challenges, so no
commitment point ever has to be decoded and validated.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import msgspec

from .errors import BallotCryptoError
from .group import (
    ORDER,
    add,
    base_mul,
    hash_to_scalar,
    integer,
    mul,
    scalar_from_hex,
    scalar_hex,
    sub,
)
from .randomness import Randomness


class Proof(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One sigma-protocol transcript: challenge c and response s, scalars in lowercase hex."""

    challenge: str
    response: str


RangeProof = tuple[Proof, ...]
"""One Proof per allowed value, in the order of the allowed values."""


def _proof(challenge: int, response: int) -> Proof:
    return Proof(challenge=scalar_hex(challenge), response=scalar_hex(response))


def _decode(proof: Proof) -> tuple[int, int]:
    return scalar_from_hex(proof.challenge), scalar_from_hex(proof.response)


@lru_cache(maxsize=1024)
def _small_power(value: int) -> bytes:
    # g^M for the few allowed values M of a poll, recomputed for every branch of every ballot otherwise.
    return base_mul(value)


def _range_commitments(
    public_key: bytes, alpha: bytes, beta: bytes, value: int, challenge: int, response: int
) -> tuple[bytes, bytes]:
    # A = g^s · alpha^c and B = y^s · (beta / g^M)^c: with s = w - r·c these are g^w and y^w.
    first = add(base_mul(response), mul(alpha, challenge))
    second = add(mul(public_key, response), mul(sub(beta, _small_power(value)), challenge))
    return first, second


def _range_challenge(
    statement: Sequence[bytes],
    public_key: bytes,
    alpha: bytes,
    beta: bytes,
    allowed: Sequence[int],
    commitments: Sequence[bytes],
) -> int:
    parts = [*statement, public_key, alpha, beta, integer(len(allowed)), *map(integer, allowed), *commitments]
    return hash_to_scalar("range", parts)


def prove_range(
    public_key: bytes,
    ciphertext: tuple[bytes, bytes],
    randomness: int,
    message: int,
    allowed: Sequence[int],
    statement: Sequence[bytes],
    rng: Randomness,
) -> RangeProof:
    """Prove that `ciphertext` encrypts one of `allowed`, without saying which (disjunctive Chaum-Pedersen).

    `statement` binds the proof to its context (poll, voter, position); the verifier must pass the same.
    Raises ValueError when `message` is not allowed: there is no honest proof for it.
    """
    if message not in allowed:
        raise ValueError("the message is not one of the allowed values")
    alpha, beta = ciphertext
    real = list(allowed).index(message)
    challenges = [0] * len(allowed)
    responses = [0] * len(allowed)
    commitments: list[bytes] = []
    nonce = rng.scalar()
    for index, value in enumerate(allowed):
        if index == real:
            commitments += [base_mul(nonce), mul(public_key, nonce)]
            continue
        challenges[index], responses[index] = rng.scalar(), rng.scalar()
        commitments += _range_commitments(public_key, alpha, beta, value, challenges[index], responses[index])
    total = _range_challenge(statement, public_key, alpha, beta, allowed, commitments)
    challenges[real] = (total - sum(challenges)) % ORDER
    responses[real] = (nonce - randomness * challenges[real]) % ORDER
    return tuple(_proof(c, s) for c, s in zip(challenges, responses, strict=True))


def verify_range(
    public_key: bytes,
    ciphertext: tuple[bytes, bytes],
    allowed: Sequence[int],
    proof: RangeProof,
    statement: Sequence[bytes],
) -> bool:
    """True when `proof` shows that `ciphertext` encrypts one of `allowed` under `public_key`."""
    if len(proof) != len(allowed):
        return False
    alpha, beta = ciphertext
    try:
        decoded = [_decode(item) for item in proof]
    except BallotCryptoError:
        return False
    commitments: list[bytes] = []
    for value, (challenge, response) in zip(allowed, decoded, strict=True):
        commitments += _range_commitments(public_key, alpha, beta, value, challenge, response)
    total = _range_challenge(statement, public_key, alpha, beta, allowed, commitments)
    # A zero hash would let every branch have a zero challenge, so that no multiplication checked the
    # ciphertext's points; it has probability 1/L for honest ballots and is refused.
    return total != 0 and total == sum(c for c, _ in decoded) % ORDER


def prove_knowledge(secret: int, statement: Sequence[bytes], rng: Randomness) -> Proof:
    """Schnorr proof of knowledge of x for the public point g^x, bound to `statement`."""
    nonce = rng.scalar()
    challenge = hash_to_scalar("knowledge", [*statement, base_mul(secret), base_mul(nonce)])
    return _proof(challenge, (nonce - secret * challenge) % ORDER)


def verify_knowledge(public: bytes, proof: Proof, statement: Sequence[bytes]) -> bool:
    """True when `proof` shows knowledge of log_g(public)."""
    try:
        challenge, response = _decode(proof)
    except BallotCryptoError:
        return False
    commitment = add(base_mul(response), mul(public, challenge))
    return challenge == hash_to_scalar("knowledge", [*statement, public, commitment])


def prove_decryption(
    secret: int, alpha: bytes, factor: bytes, statement: Sequence[bytes], rng: Randomness
) -> Proof:
    """Chaum-Pedersen proof that log_g(g^x) = log_alpha(factor): the factor is alpha^x for the trustee's x."""
    nonce = rng.scalar()
    public = base_mul(secret)
    parts = [*statement, public, alpha, factor, base_mul(nonce), mul(alpha, nonce)]
    challenge = hash_to_scalar("decryption", parts)
    return _proof(challenge, (nonce - secret * challenge) % ORDER)


def verify_decryption(
    public: bytes, alpha: bytes, factor: bytes, proof: Proof, statement: Sequence[bytes]
) -> bool:
    """True when `factor` is alpha raised to the secret behind `public`."""
    try:
        challenge, response = _decode(proof)
    except BallotCryptoError:
        return False
    first = add(base_mul(response), mul(public, challenge))
    second = add(mul(alpha, response), mul(factor, challenge))
    return challenge == hash_to_scalar("decryption", [*statement, public, alpha, factor, first, second])
