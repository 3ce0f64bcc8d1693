"""In-memory transparency logs: per community and stream, the Merkle tree of its stored commits.

Leaf i of the log of (community, stream) is the stored envelope bytes of the community's i-th
commit in that stream, in stream order. Rebuilt from the streams on start (the streams are the
record; the trees are a projection of them).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field

from shared.envelope import EnvelopeError, peek_body
from shared.transparency.merkle import MerkleTree


@dataclass(frozen=True)
class LastCheckpoint:
    """The newest checkpoint on the AUDIT subject of one log: where it is stored and what it says."""

    audit_seq: int
    size: int
    root: bytes


@dataclass
class CommunityLog:
    community: str
    stream: str
    tree: MerkleTree = field(default_factory=MerkleTree)
    sequences: array[int] = field(default_factory=lambda: array("q"))
    commit_ids: dict[str, int] = field(default_factory=dict)
    last_checkpoint: LastCheckpoint | None = None
    checkpoint_loaded: bool = False
    alarm: str | None = None  # set when the published checkpoints and the stream disagree (a fork)

    @property
    def size(self) -> int:
        return self.tree.size

    def append(self, sequence: int, data: bytes) -> int:
        position = self.tree.append(data)
        self.sequences.append(sequence)
        try:
            _, body = peek_body(data)
        except EnvelopeError:
            return position  # still logged: the auditor reports it; the log must not hide it
        self.commit_ids.setdefault(body.commit_id, position)
        return position

    def position_of_sequence(self, sequence: int) -> int | None:
        i = bisect_left(self.sequences, sequence)
        if i < len(self.sequences) and self.sequences[i] == sequence:
            return i
        return None

    @property
    def dirty(self) -> bool:
        """True when commits arrived since the newest published checkpoint."""
        last = self.last_checkpoint
        return self.size > 0 and (last is None or last.size < self.size)


class Logs:
    """All logs of a deployment, by (community, stream)."""

    def __init__(self) -> None:
        self._logs: dict[tuple[str, str], CommunityLog] = {}

    def get(self, community: str, stream: str) -> CommunityLog | None:
        return self._logs.get((community, stream))

    def for_commit(self, community: str, stream: str) -> CommunityLog:
        log = self._logs.get((community, stream))
        if log is None:
            log = self._logs[(community, stream)] = CommunityLog(community, stream)
        return log

    def of_community(self, community: str) -> list[CommunityLog]:
        return [log for (c, _), log in self._logs.items() if c == community]

    def all(self) -> list[CommunityLog]:
        return list(self._logs.values())
