"""The transparency log: RFC 9162 Merkle trees over a community's commits and signed checkpoints."""

from shared.transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    NoteVerifier,
    SignedCheckpoint,
    parse_signed_checkpoint,
    sign_checkpoint,
    verifier_key,
)
from shared.transparency.merkle import (
    MerkleTree,
    ProofError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "MerkleTree",
    "NoteVerifier",
    "ProofError",
    "SignedCheckpoint",
    "leaf_hash",
    "node_hash",
    "parse_signed_checkpoint",
    "sign_checkpoint",
    "verifier_key",
    "verify_consistency",
    "verify_inclusion",
]
