"""X25519 key-agreement keys derived from Ed25519 keys, and their Multikey form (`z6LS…`).

The conversion is the birational map from the Edwards to the Montgomery curve, as libsodium's
`crypto_sign_ed25519_pk_to_curve25519` / `crypto_sign_ed25519_sk_to_curve25519` compute it. It is
what the did:key method uses to publish a `keyAgreement` key for an Ed25519 did:key.
"""

from __future__ import annotations

import base58
import nacl.bindings
import nacl.exceptions

from shared.multikey import MultikeyError

__all__ = [
    "X25519_PUB_PREFIX",
    "x25519_multikey_decode",
    "x25519_multikey_encode",
    "x25519_private_key_from_ed25519_seed",
    "x25519_public_key_from_ed25519",
]

X25519_PUB_PREFIX = b"\xec\x01"  # multicodec x25519-pub, varint-encoded


def x25519_public_key_from_ed25519(ed25519_public_key: bytes) -> bytes:
    """The X25519 public key of the same secret as an Ed25519 public key."""
    try:
        return bytes(nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(ed25519_public_key))
    except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError, TypeError) as exc:
        raise MultikeyError("the Ed25519 public key has no X25519 counterpart") from exc


def x25519_private_key_from_ed25519_seed(ed25519_seed: bytes) -> bytes:
    """The X25519 private key (clamped scalar) matching an Ed25519 key given by its 32-byte seed."""
    _public, secret = nacl.bindings.crypto_sign_seed_keypair(ed25519_seed)
    return bytes(nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(secret))


def x25519_multikey_encode(public_key: bytes) -> str:
    """Encode a 32-byte X25519 public key as a `z6LS…` Multikey string."""
    if len(public_key) != 32:
        raise MultikeyError(f"an X25519 public key is 32 bytes, got {len(public_key)}")
    return "z" + base58.b58encode(X25519_PUB_PREFIX + public_key).decode("ascii")


def x25519_multikey_decode(value: str) -> bytes:
    """Decode a `z6LS…` Multikey string to the 32-byte X25519 public key it carries."""
    if not value.startswith("z"):
        raise MultikeyError("Multikey must use multibase base58btc (prefix 'z')")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError as exc:
        raise MultikeyError("Multikey is not valid base58btc") from exc
    if raw[:2] != X25519_PUB_PREFIX:
        raise MultikeyError("Multikey is not an X25519 public key (multicodec 0xec)")
    if len(raw) != 34:
        raise MultikeyError(f"an X25519 Multikey carries 32 key bytes, got {len(raw) - 2}")
    return raw[2:]
