"""RFC 9162 §2.1.1 Merkle Tree Hash over member DIDs: how a poll checks the roll it was given."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def roll_root(dids: Sequence[str]) -> str:
    """MTH over the sorted DIDs (leaf 0x00 ‖ DID, node 0x01 ‖ left ‖ right), in hex."""
    if not dids:
        return hashlib.sha256(b"").hexdigest()
    level = [hashlib.sha256(b"\x00" + did.encode()).digest() for did in dids]
    return _mth(level).hex()


def _mth(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _mth(hashes[:split]) + _mth(hashes[split:])).digest()
