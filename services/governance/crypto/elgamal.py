"""Exponential ElGamal: g^m is encrypted, so ciphertexts add up and small totals decrypt by discrete log."""

from __future__ import annotations

import math
from functools import lru_cache

import msgspec

from .errors import DecryptionFailed
from .group import IDENTITY, add, base_mul, mul, point_from_hex, point_hex, sub
from .randomness import Randomness

RawCiphertext = tuple[bytes, bytes]
"""(alpha, beta) as validated 32-byte points: alpha = g^r, beta = y^r · g^m."""


class Ciphertext(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An ElGamal ciphertext as it travels: two points in lowercase hex."""

    alpha: str
    beta: str


def encode_ciphertext(raw: RawCiphertext) -> Ciphertext:
    """The JSON-friendly form of a ciphertext."""
    return Ciphertext(alpha=point_hex(raw[0]), beta=point_hex(raw[1]))


def decode_ciphertext(ciphertext: Ciphertext) -> RawCiphertext:
    """Decode a ciphertext from outside, validating both points (raises InvalidPoint)."""
    return point_from_hex(ciphertext.alpha), point_from_hex(ciphertext.beta)


def generate_keypair(rng: Randomness) -> tuple[int, bytes]:
    """A single-holder key (secret x, public g^x); trustees use `threshold` instead."""
    secret = rng.scalar()
    return secret, base_mul(secret)


def encrypt(public_key: bytes, message: int, randomness: int) -> RawCiphertext:
    """Encrypt the small integer `message` with the given randomness r (kept by the caller for proofs)."""
    return base_mul(randomness), add(mul(public_key, randomness), base_mul(message))


def add_ciphertexts(left: RawCiphertext, right: RawCiphertext) -> RawCiphertext:
    """The ciphertext of the sum of both plaintexts."""
    return add(left[0], right[0]), add(left[1], right[1])


ZERO: RawCiphertext = (IDENTITY, IDENTITY)
"""The trivial encryption of 0 with randomness 0: the starting point of a homomorphic sum."""


def decryption_factor(secret: int, ciphertext: RawCiphertext) -> bytes:
    """alpha^x: what a key holder contributes to decrypting a ciphertext."""
    return mul(ciphertext[0], secret)


def plaintext_point(ciphertext: RawCiphertext, factor: bytes) -> bytes:
    """g^m = beta / alpha^x."""
    return sub(ciphertext[1], factor)


def decrypt(secret: int, ciphertext: RawCiphertext, bound: int) -> int:
    """Decrypt with a single key, for totals in [0, bound]."""
    return discrete_log(plaintext_point(ciphertext, decryption_factor(secret, ciphertext)), bound)


@lru_cache(maxsize=8)
def _baby_steps(width: int) -> dict[bytes, int]:
    table: dict[bytes, int] = {}
    point = IDENTITY
    generator = base_mul(1)
    for exponent in range(width):
        table[point] = exponent
        point = add(point, generator)
    return table


def discrete_log(point: bytes, bound: int) -> int:
    """The m in [0, bound] with g^m = point, by baby-step giant-step (about 2·sqrt(bound) additions).

    Raises DecryptionFailed when no such m exists, which means the ciphertext was not an honest total.
    """
    if bound < 0:
        raise ValueError("bound must be non-negative")
    # Widths are rounded up to a power of two so that polls of similar size share one cached table.
    width = 1 << max(4, math.isqrt(bound).bit_length())
    table = _baby_steps(width)
    giant = base_mul(width)
    current = point
    for step in range(bound // width + 1):
        found = table.get(current)
        if found is not None:
            value = step * width + found
            if value <= bound:
                return value
            break
        current = sub(current, giant)
    raise DecryptionFailed(f"plaintext is not in [0, {bound}]")
