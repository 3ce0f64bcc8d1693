"""A committed roll snapshot: the sorted DIDs in good standing at one instant and their Merkle root."""

from __future__ import annotations

from collections.abc import Iterable

from services.membership.domain.events import RollSnapshotted
from services.membership.domain.merkle import merkle_root
from shared.domain import Aggregate, applies


def roll_id(community: str, snapshot: str) -> str:
    return f"{community}.roll.{snapshot}"


class RollSnapshot(Aggregate):
    community: str
    at_ns: int
    members: tuple[str, ...]
    root: str

    @classmethod
    def commit(cls, *, community: str, snapshot: str, members: Iterable[str], at_ns: int) -> RollSnapshot:
        ordered = tuple(sorted(set(members)))
        roll = cls(roll_id(community, snapshot))
        roll.trigger(
            RollSnapshotted,
            at_ns,
            community=community,
            at_ns=at_ns,
            members=ordered,
            root=merkle_root(ordered).hex(),
            size=len(ordered),
        )
        return roll

    @applies(RollSnapshotted)
    def _snapshotted(self, event: RollSnapshotted) -> None:
        self.community = event.community
        self.at_ns = event.at_ns
        self.members = event.members
        self.root = event.root

    @property
    def snapshot(self) -> str:
        return self.id.rsplit(".", 1)[-1]
