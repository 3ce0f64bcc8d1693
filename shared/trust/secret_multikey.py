"""Ed25519 secret keys as Multikey: multicodec ed25519-priv (0x1300), multibase base58btc."""

from __future__ import annotations

import base58

from shared.multikey import MultikeyError

__all__ = ["ED25519_PRIV_PREFIX", "secret_multikey_decode", "secret_multikey_encode"]

ED25519_PRIV_PREFIX = b"\x80\x26"  # multicodec ed25519-priv (0x1300), varint-encoded


def secret_multikey_encode(seed: bytes) -> str:
    """Encode a 32-byte Ed25519 secret key (RFC 8032 seed) as a secret Multikey string."""
    if len(seed) != 32:
        raise MultikeyError(f"an Ed25519 secret key is 32 bytes, got {len(seed)}")
    return "z" + base58.b58encode(ED25519_PRIV_PREFIX + seed).decode("ascii")


def secret_multikey_decode(value: str) -> bytes:
    """Decode a secret Multikey string to the 32-byte Ed25519 secret key (seed) it carries."""
    if not value.startswith("z"):
        raise MultikeyError("secret Multikey must use multibase base58btc (prefix 'z')")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError as exc:
        raise MultikeyError("secret Multikey is not valid base58btc") from exc
    if raw[:2] != ED25519_PRIV_PREFIX:
        raise MultikeyError("not an Ed25519 secret key (multicodec ed25519-priv, 0x1300)")
    if len(raw) != 34:
        raise MultikeyError(f"an Ed25519 secret Multikey carries 32 bytes, got {len(raw) - 2}")
    return raw[2:]
