"""Read use cases: the roll at an instant, committed roll snapshots, the directory, audit trails."""

from __future__ import annotations

import secrets
from typing import Any

from services.membership.domain.commands import DirectoryQuery, MemberQuery, RollQuery, SnapshotQuery
from services.membership.domain.merkle import merkle_root
from services.membership.domain.roll import RollSnapshot, roll_id
from services.membership.handlers.base import HandlerBase
from shared.clock import instant, rfc3339
from shared.subjects import check_token


class RollHandlers(HandlerBase):
    async def roll_at(self, query: RollQuery) -> dict[str, Any]:
        """Members in good standing at `at` (default now), from the roll projection, caught up first."""
        community = await self.run(self.app.community, query.community)
        at = instant(query.at, self.clock())
        members = await self.run(self.catch_up.query, lambda: self.roll.members(community.slug, at))
        return {"community": community.slug, "at": rfc3339(at), "size": len(members), "members": members}

    async def snapshot_roll(self, query: RollQuery) -> dict[str, Any]:
        """Commit the roll as an event: sorted DIDs and their RFC 9162 Merkle root (governance, poll open)."""
        community = await self.run(self.open_community, query.community)
        at = instant(query.at, self.clock())
        members = await self.run(self.catch_up.query, lambda: self.roll.members(community.slug, at))
        roll = RollSnapshot.commit(
            community=community.slug, snapshot=secrets.token_hex(12), members=members, at_ns=at
        )
        await self.save(roll)
        return self.snapshot_view(roll)

    async def get_snapshot(self, query: SnapshotQuery) -> dict[str, Any]:
        check_token(query.snapshot, "snapshot")
        roll = await self.run(self.app.load, RollSnapshot, roll_id(query.community, query.snapshot))
        return self.snapshot_view(roll)

    @staticmethod
    def snapshot_view(roll: RollSnapshot) -> dict[str, Any]:
        assert merkle_root(roll.members).hex() == roll.root
        return {
            "snapshot": roll.snapshot,
            "community": roll.community,
            "at": rfc3339(roll.at_ns),
            "at_ns": roll.at_ns,  # the exact instant the roll was taken (`at` is to the second)
            "root": roll.root,
            "size": len(roll.members),
            "members": list(roll.members),
        }

    async def directory_search(self, query: DirectoryQuery) -> dict[str, Any]:
        community = await self.run(self.app.community, query.community)
        now = self.clock()
        entries = await self.run(
            self.catch_up.query,
            lambda: self.directory.search(
                community.slug,
                now=now,
                text=query.text,
                role=query.role,
                status=query.status,
                membership_type=query.type,
                tag=query.tag,
            ),
        )
        return {"community": community.slug, "count": len(entries), "members": entries}

    async def member(self, query: MemberQuery) -> dict[str, Any]:
        member = await self.run(self.app.member_by_did, query.community, query.member)
        return self.member_view(member, self.clock())

    async def audit_trail(self, query: MemberQuery) -> dict[str, Any]:
        """Every change to one member: when, which change, who made it, and her signed statement."""
        member = await self.run(self.app.member_by_did, query.community, query.member)
        trail = await self.run(self.catch_up.query, lambda: self.audit.trail(member.id))
        return {"member": member.did, "trail": trail}
