"""RFC 9162 §2.1 Merkle trees: tree hash, inclusion and consistency proofs, and their verification.

Leaves are byte strings (for the transparency log: a commit's stored envelope bytes, exactly).
`leaf_hash(d) = SHA-256(0x00 || d)`, `node_hash(l, r) = SHA-256(0x01 || l || r)`, the empty tree
hashes to SHA-256(""), and a tree of n > 1 leaves splits at the largest power of two below n.

`MerkleTree` keeps every complete (perfect, aligned) subtree hash, level by level, in flat
`bytearray`s of 32-byte hashes: appending is amortised O(1), the root at any earlier size and every
proof are O(log² n) hashes, and a million leaves take about 64 MB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "ProofError",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A proof is malformed or does not lead to the expected root; the message says which step."""


def leaf_hash(data: bytes) -> bytes:
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 9162 tree of leaf hashes with every complete subtree hash kept."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._last: list[bytes] = [b""]  # per level, its newest node (the left child of a pair to come)
        for h in leaf_hashes:
            self.append_hash(h)

    @classmethod
    def of_leaves(cls, leaves: Iterable[bytes]) -> MerkleTree:
        """A tree of the leaves (their data, hashed here), built level by level in bulk."""
        sha = _sha256
        return cls.of_leaf_hashes([sha(b"\x00" + d).digest() for d in leaves])

    @classmethod
    def of_leaf_hashes(cls, hashes: Sequence[bytes]) -> MerkleTree:
        if any(len(h) != HASH_SIZE for h in hashes):
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        tree = cls()
        level = list(hashes)
        tree._levels = [bytearray(b"".join(level))]
        sha = _sha256
        while len(level) > 1:
            level = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
            tree._levels.append(bytearray(b"".join(level)))
        if len(tree._levels) > 1 and not tree._levels[-1]:
            tree._levels.pop()
        tree._last = [bytes(row[-HASH_SIZE:]) for row in tree._levels]
        return tree

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE

    def __len__(self) -> int:
        return self.size

    def append(self, data: bytes) -> int:
        """Add a leaf (its data, hashed here); return its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, h: bytes) -> int:
        if len(h) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(h)}")
        levels, last = self._levels, self._last
        index = len(levels[0]) // HASH_SIZE
        levels[0] += h
        level, count, node = 0, index + 1, h
        while not count & 1:  # this node completed a pair: its parent is complete too
            node = _sha256(b"\x01" + last[level] + node).digest()
            level += 1
            if len(levels) == level:
                levels.append(bytearray())
                last.append(b"")
            levels[level] += node
            count >>= 1
        last[level] = node  # a left child, waiting for its sibling
        return index

    def leaf(self, index: int) -> bytes:
        """The hash of leaf `index`."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is outside a tree of {self.size}")
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _node(self, level: int, index: int) -> bytes:
        row = self._levels[level]
        return bytes(row[index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def _range(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range that occurs as a subtree of some RFC 9162 tree."""
        n = end - start
        if n == 1:
            return self._node(0, start)
        if n & (n - 1) == 0 and start % n == 0:  # a complete, aligned subtree: stored
            return self._node(n.bit_length() - 1, start // n)
        k = _split(n)
        return node_hash(self._range(start, start + k), self._range(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The tree head MTH(D[0:size]) (the current tree by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
        return EMPTY_ROOT if size == 0 else self._range(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf to root."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"leaf {index} is not in a tree of size {size} (have {self.size})")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self._range(start + k, end))
                end = start + k
            else:
                proof.append(self._range(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1."""
        new_size = self.size if new_size is None else new_size
        if not 0 <= old_size <= new_size <= self.size:
            raise ValueError(f"no consistency proof from {old_size} to {new_size} (have {self.size})")
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        self._subproof(old_size, 0, new_size, True, proof)
        return proof

    def _subproof(self, m: int, start: int, end: int, known: bool, out: list[bytes]) -> None:
        n = end - start
        if m == n:
            if not known:
                out.append(self._range(start, end))
            return
        k = _split(n)
        if m <= k:
            self._subproof(m, start, start + k, known, out)
            out.append(self._range(start + k, end))
        else:
            self._subproof(m - k, start + k, end, False, out)
            out.append(self._range(start, start + k))


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH of the leaves (their data, hashed here)."""
    return MerkleTree.of_leaves(leaves).root()


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root a leaf hash and its audit path lead to (RFC 9162 §2.1.3.2), or ProofError."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if len(p) != HASH_SIZE:
            raise ProofError(f"proof element of {len(p)} bytes")
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless `proof` shows leaf hash `leaf` at `index` in the tree `root` of `size`."""
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError(f"inclusion proof of leaf {index} does not lead to the root of tree size {size}")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise ProofError unless `proof` shows tree `new_root` extends tree `old_root` (RFC 9162 §2.1.4.2)."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"old size {old_size} exceeds new size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for tree size {old_size}: the log forked")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("proof element of the wrong length")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    if not path:
        raise ProofError("empty consistency proof")
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the tree is deep")
    if fr != old_root:
        raise ProofError(
            f"consistency proof does not lead to the root of tree size {old_size}: the log forked"
        )
    if sr != new_root:
        raise ProofError(f"consistency proof does not lead to the root of tree size {new_size}")
