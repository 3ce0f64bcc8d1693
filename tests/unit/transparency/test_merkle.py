"""RFC 9162 trees: roots against the RFC's recursive definition, every proof verified, bad proofs refused."""

from __future__ import annotations

import hashlib

import pytest

from shared.transparency.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    verify_consistency,
    verify_inclusion,
)


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 §2.1.1 defines it."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


LEAVES = [f"commit {i}".encode() for i in range(37)]


def test_roots_at_every_size_match_the_rfc_definition() -> None:
    tree = MerkleTree.of_leaves(LEAVES)
    assert tree.root(0) == EMPTY_ROOT
    assert [tree.root(n) for n in range(len(LEAVES) + 1)] == [mth(LEAVES[:n]) for n in range(len(LEAVES) + 1)]


def test_every_inclusion_and_consistency_proof_verifies() -> None:
    tree = MerkleTree.of_leaves(LEAVES)
    for n in range(1, len(LEAVES) + 1):
        for i in range(n):
            verify_inclusion(i, n, tree.leaf(i), tree.inclusion_proof(i, n), tree.root(n))
        for m in range(n + 1):
            verify_consistency(m, n, tree.root(m), tree.root(n), tree.consistency_proof(m, n))


def test_the_rfc_9162_example_tree_of_seven_has_the_documented_proof_shapes() -> None:
    tree = MerkleTree.of_leaves(LEAVES[:7])
    assert len(tree.inclusion_proof(0, 7)) == 3  # [b, h, l] in RFC 9162 §2.1.5
    assert len(tree.inclusion_proof(6, 7)) == 2  # [i, k]
    assert len(tree.consistency_proof(3, 7)) == 4  # [c, d, g, l]
    assert len(tree.consistency_proof(4, 7)) == 1  # [l]
    assert len(tree.consistency_proof(6, 7)) == 3  # [i, j, k]


def test_a_wrong_leaf_root_or_proof_is_refused() -> None:
    tree = MerkleTree.of_leaves(LEAVES)
    proof = tree.inclusion_proof(5, 20)
    with pytest.raises(ProofError):
        verify_inclusion(5, 20, tree.leaf(6), proof, tree.root(20))
    with pytest.raises(ProofError):
        verify_inclusion(5, 20, tree.leaf(5), proof[:-1], tree.root(20))
    with pytest.raises(ProofError):
        verify_inclusion(5, 21, tree.leaf(5), proof, tree.root(21))
    forked = MerkleTree.of_leaves([*LEAVES[:9], b"another history", *LEAVES[10:20]])
    with pytest.raises(ProofError, match="forked"):
        verify_consistency(12, 20, forked.root(12), tree.root(20), tree.consistency_proof(12, 20))
    with pytest.raises(ProofError, match="forked"):
        verify_consistency(20, 20, forked.root(20), tree.root(20), [])


def test_appending_one_by_one_equals_building_at_once() -> None:
    grown = MerkleTree()
    for leaf in LEAVES:
        grown.append(leaf)
    assert grown.root() == MerkleTree.of_leaves(LEAVES).root() == mth(LEAVES)
    assert grown.size == len(LEAVES)


def test_a_tree_built_in_bulk_keeps_growing_by_appends() -> None:
    for n in (0, 1, 5, 8, 13):
        tree = MerkleTree.of_leaves(LEAVES[:n])
        for leaf in LEAVES[n:]:
            tree.append(leaf)
        assert tree.root() == mth(LEAVES)
        assert tree.root(n) == mth(LEAVES[:n])
