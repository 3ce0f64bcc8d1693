"""SLIP-0010 derivation of Ed25519 keys from a seed: HMAC-SHA512 chains, hardened children only.

Follows https://github.com/satoshilabs/slips/blob/master/slip-0010.md for the ed25519 curve: the
master key is HMAC-SHA512(key=b"ed25519 seed", data=seed) split into private key || chain code;
each child is HMAC-SHA512(key=chain code, data=0x00 || private key || ser32(index)) split the same
way. Ed25519 has no public derivation, so every index must be hardened (>= 2**31).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

import nacl.bindings

from shared.trust.errors import DerivationError, DerivationFailure

__all__ = [
    "HARDENED_OFFSET",
    "ExtendedKey",
    "derive_path",
    "master_key",
    "parse_path",
]

HARDENED_OFFSET = 0x80000000
_CURVE_KEY = b"ed25519 seed"
_SEGMENT = re.compile(r"(?P<index>0|[1-9][0-9]*)(?P<hardened>['hH]?)")


@dataclass(frozen=True)
class ExtendedKey:
    """A SLIP-0010 node: the 32-byte Ed25519 private key (RFC 8032 seed) and its chain code."""

    private_key: bytes
    chain_code: bytes

    def __post_init__(self) -> None:
        if len(self.private_key) != 32 or len(self.chain_code) != 32:
            raise DerivationError(
                DerivationFailure.BAD_SEED,
                "an extended key is a 32-byte key and 32-byte chain code",
            )

    def child(self, index: int) -> ExtendedKey:
        """The hardened child at `index` (already offset by 2**31, as SLIP-0010 writes it)."""
        if not HARDENED_OFFSET <= index <= 0xFFFFFFFF:
            raise DerivationError(
                DerivationFailure.NON_HARDENED,
                f"Ed25519 derivation is hardened only; index {index} is not in [2**31, 2**32)",
            )
        data = b"\x00" + self.private_key + index.to_bytes(4, "big")
        digest = hmac.new(self.chain_code, data, hashlib.sha512).digest()
        return ExtendedKey(private_key=digest[:32], chain_code=digest[32:])

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key of this node."""
        public, _secret = nacl.bindings.crypto_sign_seed_keypair(self.private_key)
        return bytes(public)

    @property
    def slip10_public_key(self) -> bytes:
        """The public key as SLIP-0010 prints it for ed25519: a 0x00 byte, then the 32 key bytes."""
        return b"\x00" + self.public_key


def master_key(seed: bytes) -> ExtendedKey:
    """The master node of `seed` (16 to 64 bytes; a BIP-39 seed is 64)."""
    if not 16 <= len(seed) <= 64:
        raise DerivationError(DerivationFailure.BAD_SEED, f"a seed is 16 to 64 bytes, got {len(seed)}")
    digest = hmac.new(_CURVE_KEY, seed, hashlib.sha512).digest()
    return ExtendedKey(private_key=digest[:32], chain_code=digest[32:])


def parse_path(path: str) -> tuple[int, ...]:
    """The child indexes of a path like `m/26'/0'/0'/0'` (hardened marks: `'`, `h` or `H`)."""
    segments = path.split("/")
    if segments[0] != "m":
        raise DerivationError(DerivationFailure.BAD_PATH, f"a path starts with 'm': {path!r}")
    indexes: list[int] = []
    for segment in segments[1:]:
        match = _SEGMENT.fullmatch(segment)
        if match is None or int(match["index"]) >= HARDENED_OFFSET:
            raise DerivationError(
                DerivationFailure.BAD_PATH, f"path segment {segment!r} is not an index below 2**31"
            )
        if not match["hardened"]:
            raise DerivationError(
                DerivationFailure.NON_HARDENED,
                f"path segment {segment!r} is not hardened; Ed25519 derivation is hardened only",
            )
        indexes.append(int(match["index"]) + HARDENED_OFFSET)
    return tuple(indexes)


def derive_path(seed: bytes, path: str) -> ExtendedKey:
    """The node at `path` below the master node of `seed`."""
    node = master_key(seed)
    for index in parse_path(path):
        node = node.child(index)
    return node
