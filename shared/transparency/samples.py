"""Sample community bundles made without a deployment: for tests of the verifier and for benchmarks.

Commits are real signed envelopes (`shared.envelope.seal`) on realistic subjects, checkpoints real
signed notes over the RFC 9162 tree of those commits, so a sample verifies exactly as an export does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from shared.bundle import BundledCheckpoint, BundledCommit, write_bundle
from shared.envelope import Commit, EventRecord, seal
from shared.signing import SigningKey
from shared.transparency.checkpoint import Checkpoint, note_signer_name, sign_checkpoint, verifier_key
from shared.transparency.layout import origin, stream_prefix
from shared.transparency.merkle import MerkleTree

__all__ = ["SampleLog", "sample_commits", "sample_log", "write_sample_bundle"]

_state = msgspec.msgpack.Encoder()


def sample_commits(
    key: SigningKey, community: str, stream: str, count: int, aggregates: int = 10
) -> list[BundledCommit]:
    """`count` signed commits of `community` spread over `aggregates` aggregates, in stream order."""
    versions = [0] * aggregates
    out = []
    for i in range(count):
        a = i % aggregates
        versions[a] += 1
        subject = f"{stream_prefix(stream)}.{community}.thing.t{a}"
        commit = Commit(
            commit_id=f"{community}-{stream}-{i}",
            community=community,
            subject=subject,
            originator_id=f"{community}.thing.t{a}",
            originator_id_kind="str",
            first_version=versions[a],
            last_version=versions[a],
            event_types=["sample.thing_changed.v1"],
            timestamp_ns=1_700_000_000_000_000_000 + i,
            signer=key.key_id,
            events=[EventRecord("sample.thing_changed.v1", versions[a], _state.encode({"n": i}))],
        )
        out.append(BundledCommit(i, 2 * i + 1, subject, seal(commit, key)))
    return out


@dataclass(frozen=True)
class SampleLog:
    commits: dict[str, list[BundledCommit]]
    checkpoints: list[BundledCheckpoint]
    keys: list[str]


def sample_log(
    community: str,
    counts: dict[str, int],
    *,
    checkpoint_every: int = 0,
    deployment: str = "sample.example",
    service_key: SigningKey | None = None,
    log_key: SigningKey | None = None,
) -> SampleLog:
    """Commits per stream and checkpoints at every `checkpoint_every` commits (and at the end)."""
    service_key = service_key or SigningKey.generate()
    log_key = log_key or SigningKey.generate()
    name = note_signer_name(deployment)
    commits: dict[str, list[BundledCommit]] = {}
    checkpoints: list[BundledCheckpoint] = []
    for stream, count in counts.items():
        commits[stream] = sample_commits(service_key, community, stream, count)
        tree = MerkleTree.of_leaves(c.data for c in commits[stream])
        sizes = list(range(checkpoint_every, count, checkpoint_every)) if checkpoint_every else []
        for size in [*sizes, count]:
            cp = Checkpoint(origin(deployment, community, stream), size, tree.root(size))
            checkpoints.append(BundledCheckpoint(stream, sign_checkpoint(cp, log_key, name).text))
    return SampleLog(commits, checkpoints, [verifier_key(name, log_key.public_key)])


def write_sample_bundle(
    out: Path, community: str, log: SampleLog, checkpoints: Sequence[BundledCheckpoint] | None = None
) -> int:
    return write_bundle(
        out,
        community=community,
        deployment="sample.example",
        commits=log.commits,
        keys=log.keys,
        checkpoints=log.checkpoints if checkpoints is None else checkpoints,
    )
