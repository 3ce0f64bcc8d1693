"""Transparency log figures: tree building, proofs, checkpoint signing and bundle audit rate.

Usage: `cos bench transparency [--leaves N] [--proofs P] [--bundle-commits M] [--json]`.
Builds an RFC 9162 tree over N in-memory leaves (default 1,000,000 commit-sized leaves), generates
and verifies P inclusion and consistency proofs, signs checkpoints, and runs `cos audit verify` on
a bundle of M signed commits. Each rate is printed beside a same-run baseline (raw SHA-256 of the
leaves, raw Ed25519 verification); the last line is JSON. No pass/fail thresholds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from cos.audits.verify import verify_file
from shared.signing import SigningKey, verify_detached
from shared.transparency.checkpoint import Checkpoint, sign_checkpoint
from shared.transparency.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from shared.transparency.samples import sample_log, write_sample_bundle

LEAF_BYTES = 400  # about the size of a small signed commit envelope


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def run(leaves: int, proofs: int, bundle_commits: int) -> dict[str, Any]:
    rng = random.Random(7)
    block = os.urandom(LEAF_BYTES + leaves)
    data = [block[i : i + LEAF_BYTES] for i in range(leaves)]

    _, hash_s = _timed(lambda: [leaf_hash(d) for d in data])
    tree, build_s = _timed(lambda: MerkleTree.of_leaves(data))

    def grow() -> MerkleTree:
        grown = MerkleTree()
        for d in data:
            grown.append(d)
        return grown

    grown, append_s = _timed(grow)  # how the checkpointer grows its trees, one commit at a time
    assert grown.root() == tree.root()
    root, root_s = _timed(tree.root)
    sizes = [rng.randint(1, leaves) for _ in range(proofs)]
    indices = [rng.randrange(s) for s in sizes]
    inclusion, inclusion_s = _timed(
        lambda: [tree.inclusion_proof(i, s) for i, s in zip(indices, sizes, strict=True)]
    )
    roots = {s: tree.root(s) for s in set(sizes)}

    def verify_all() -> None:
        for i, s, p in zip(indices, sizes, inclusion, strict=True):
            verify_inclusion(i, s, tree.leaf(i), p, roots[s])

    _, inclusion_verify_s = _timed(verify_all)
    olds = [rng.randint(1, s) for s in sizes]
    consistency, consistency_s = _timed(
        lambda: [tree.consistency_proof(o, s) for o, s in zip(olds, sizes, strict=True)]
    )
    old_roots = {o: tree.root(o) for o in set(olds)}

    def verify_consistencies() -> None:
        for o, s, p in zip(olds, sizes, consistency, strict=True):
            verify_consistency(o, s, old_roots[o], roots[s], p)

    _, consistency_verify_s = _timed(verify_consistencies)
    key = SigningKey.generate()
    _, sign_s = _timed(
        lambda: [
            sign_checkpoint(Checkpoint("bench/c/x/membership", leaves, root), key, "bench")
            for _ in range(1000)
        ]
    )

    log, seal_s = _timed(lambda: sample_log("bench", {"MEMBERSHIP": bundle_commits}, checkpoint_every=1000))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        write_sample_bundle(path, "bench", log)
        size = path.stat().st_size
        report, audit_s = _timed(lambda: verify_file(path, governance=False))
    assert report.ok, report.text()
    sig = key.sign(b"x" * 300)
    n_verify = 5000

    def ed25519() -> None:
        for _ in range(n_verify):
            verify_detached(b"x" * 300, sig, key.public_key)

    _, ed_s = _timed(ed25519)

    return {
        "leaves": leaves,
        "leaf_hash_per_s": round(leaves / hash_s),
        "tree_build_per_s": round(leaves / build_s),
        "tree_build_vs_leaf_hash": round(hash_s / build_s, 3),
        "tree_append_per_s": round(leaves / append_s),
        "root_ms": round(root_s * 1000, 3),
        "inclusion_proofs_per_s": round(proofs / inclusion_s),
        "inclusion_verify_per_s": round(proofs / inclusion_verify_s),
        "consistency_proofs_per_s": round(proofs / consistency_s),
        "consistency_verify_per_s": round(proofs / consistency_verify_s),
        "checkpoint_sign_per_s": round(1000 / sign_s),
        "bundle_commits": bundle_commits,
        "bundle_bytes": size,
        "sample_seal_per_s": round(bundle_commits / seal_s),
        "audit_verify_commits_per_s": round(bundle_commits / audit_s),
        "ed25519_verify_per_s": round(n_verify / ed_s),
        "audit_vs_ed25519_verify": round((bundle_commits / audit_s) / (n_verify / ed_s), 3),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=10_000)
    parser.add_argument("--bundle-commits", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="only the JSON result line")


def execute(args: argparse.Namespace) -> int:
    result = run(max(1, args.leaves), max(1, args.proofs), max(1, args.bundle_commits))
    if not args.json:
        print(f"leaf hashing (SHA-256)     {result['leaf_hash_per_s']:>12,} leaves/s")
        print(f"tree building              {result['tree_build_per_s']:>12,} leaves/s  "
              f"({result['tree_build_vs_leaf_hash']:.0%} of hashing alone)")  # fmt: skip
        print(f"tree growing by appends    {result['tree_append_per_s']:>12,} leaves/s")
        print(f"root of {result['leaves']:,} leaves   {result['root_ms']:>12} ms")
        print(f"inclusion proofs           {result['inclusion_proofs_per_s']:>12,} /s  "
              f"verified {result['inclusion_verify_per_s']:,} /s")  # fmt: skip
        print(f"consistency proofs         {result['consistency_proofs_per_s']:>12,} /s  "
              f"verified {result['consistency_verify_per_s']:,} /s")  # fmt: skip
        print(f"checkpoint signing         {result['checkpoint_sign_per_s']:>12,} /s")
        print(f"audit verify (bundle)      {result['audit_verify_commits_per_s']:>12,} commits/s  "
              f"({result['audit_vs_ed25519_verify']:.0%} of raw Ed25519 verify "
              f"{result['ed25519_verify_per_s']:,}/s on one core)")  # fmt: skip
    print(json.dumps(result))
    return 0
