"""RFC 9162 §2.1.1 Merkle Tree Hash over member DIDs (leaf 0x00, node 0x01, largest power-of-two split)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(did: str) -> bytes:
    return hashlib.sha256(b"\x00" + did.encode("utf-8")).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[str]) -> bytes:
    """MTH(D[n]); the empty tree hashes to SHA-256 of the empty string."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    return _mth([leaf_hash(leaf) for leaf in leaves])


def _mth(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)  # largest power of two smaller than n
    return node_hash(_mth(hashes[:split]), _mth(hashes[split:]))
