"""SHA-256 multihashes in base58btc, as did:webvh hashes and `digestMultibase` values write them."""

from __future__ import annotations

import hashlib

import base58

__all__ = [
    "SHA2_256_PREFIX",
    "decode_sha256_multihash",
    "digest_multibase",
    "sha256_multihash",
    "sha256_multihash_base58",
]

# multihash header: code 0x12 (sha2-256), digest length 0x20 (32 bytes), both single-byte varints.
SHA2_256_PREFIX = b"\x12\x20"


def sha256_multihash(data: bytes) -> bytes:
    """The 34-byte multihash (sha2-256) of `data`."""
    return SHA2_256_PREFIX + hashlib.sha256(data).digest()


def sha256_multihash_base58(data: bytes) -> str:
    """base58btc of the sha2-256 multihash, without a multibase prefix (`Qm…`): did:webvh's form."""
    return base58.b58encode(sha256_multihash(data)).decode("ascii")


def digest_multibase(data: bytes) -> str:
    """Multibase base58btc (`z…`) of the sha2-256 multihash: the VCDM 2.0 `digestMultibase` form."""
    return "z" + sha256_multihash_base58(data)


def decode_sha256_multihash(text: str) -> bytes:
    """The 32-byte SHA-256 digest inside a base58btc multihash (`Qm…`); ValueError otherwise.

    Only sha2-256 is accepted: it is the one algorithm did:webvh 1.0 permits.
    """
    try:
        raw = base58.b58decode(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not base58btc") from exc
    if base58.b58encode(raw).decode("ascii") != text:
        raise ValueError(f"{text!r} is not canonical base58btc")
    if raw[:2] != SHA2_256_PREFIX or len(raw) != 34:
        raise ValueError(f"{text!r} is not a sha2-256 multihash")
    return raw[2:]
