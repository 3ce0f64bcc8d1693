"""Ed25519 public keys as Multikey (multicodec 0xed01, multibase base58btc) and did:key identifiers."""

from __future__ import annotations

import base58

__all__ = [
    "ED25519_PUB_PREFIX",
    "MultikeyError",
    "did_key_from_public_key",
    "multikey_decode",
    "multikey_encode",
    "public_key_from_did_key",
]

ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, varint-encoded


class MultikeyError(ValueError):
    """A string is not a well-formed Ed25519 Multikey or did:key."""


def multikey_encode(public_key: bytes) -> str:
    """Encode a 32-byte Ed25519 public key as a `z6Mk…` Multikey string."""
    if len(public_key) != 32:
        raise MultikeyError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")
    return "z" + base58.b58encode(ED25519_PUB_PREFIX + public_key).decode("ascii")


def multikey_decode(value: str) -> bytes:
    """Decode a `z6Mk…` Multikey string to the 32-byte Ed25519 public key it carries."""
    if not value.startswith("z"):
        raise MultikeyError("Multikey must use multibase base58btc (prefix 'z')")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError as exc:
        raise MultikeyError(f"Multikey is not valid base58btc: {exc}") from exc
    if raw[:2] != ED25519_PUB_PREFIX:
        raise MultikeyError("Multikey is not an Ed25519 public key (multicodec 0xed01)")
    if len(raw) != 34:
        raise MultikeyError(f"Ed25519 Multikey must carry 32 key bytes, got {len(raw) - 2}")
    return raw[2:]


def did_key_from_public_key(public_key: bytes) -> str:
    """The did:key identifier of an Ed25519 public key."""
    return "did:key:" + multikey_encode(public_key)


def public_key_from_did_key(did: str) -> bytes:
    """The Ed25519 public key named by a did:key identifier (fragment ignored)."""
    if not did.startswith("did:key:"):
        raise MultikeyError(f"not a did:key identifier: {did!r}")
    return multikey_decode(did.removeprefix("did:key:").split("#", 1)[0])
