"""The roll's RFC 9162 Merkle Tree Hash over member DIDs (UTF-8), the transparency log's own hashing."""

from __future__ import annotations

from collections.abc import Sequence

from shared.transparency.merkle import leaf_hash as _leaf_hash
from shared.transparency.merkle import node_hash, root_of

__all__ = ["leaf_hash", "merkle_root", "node_hash"]


def leaf_hash(did: str) -> bytes:
    return _leaf_hash(did.encode("utf-8"))


def merkle_root(leaves: Sequence[str]) -> bytes:
    """MTH(D[n]); the empty tree hashes to SHA-256 of the empty string."""
    return root_of([leaf.encode("utf-8") for leaf in leaves])
