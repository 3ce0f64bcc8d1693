"""Set-up shared by the governance service tests (no tests here): in-memory stores, real membership rules."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.governance.adapters.live import MemoryLiveNotices
from services.governance.adapters.membership import MemberRecord, Roll, record_from, roll_from
from services.governance.adapters.notices import MemoryNotices
from services.governance.application import GovernanceApplication
from services.governance.domain.commands import Signed
from services.governance.handlers import GovernanceHandlers
from services.membership.adapters.fakes import MemoryNonces
from services.membership.domain.commands import MemberQuery, RollQuery, SnapshotQuery
from services.membership.handlers import MembershipHandlers
from shared.application import NotFound
from shared.statements import sign_statement
from shared.trust.datetimes import format_datetime
from shared.trust.member_keys import MemberKeys

from .test_membership_support import admitted_member, community_with_admin, service

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class InProcessMembership:
    """The membership port answered by the real membership use cases, in this process."""

    def __init__(self, handlers: MembershipHandlers) -> None:
        self.handlers = handlers

    async def member(self, community: str, did: str) -> MemberRecord | None:
        try:
            return record_from(await self.handlers.member(MemberQuery(community, did)))
        except NotFound:
            return None

    async def snapshot_roll(self, community: str) -> Roll:
        return roll_from(await self.handlers.snapshot_roll(RollQuery(community)))

    async def get_snapshot(self, community: str, snapshot: str) -> Roll:
        return roll_from(await self.handlers.get_snapshot(SnapshotQuery(community, snapshot)))


@dataclass
class World:
    """One community with an admin and members, a governance service over it, and its notices
    (stored ones in `notices`, live-only ones such as a ballot cast in `live`)."""

    governance: GovernanceHandlers
    membership: MembershipHandlers
    notices: MemoryNotices
    community: str
    admin: MemberKeys
    members: list[MemberKeys] = field(default_factory=list)
    live: MemoryLiveNotices = field(default_factory=MemoryLiveNotices)

    def signed(self, keys: MemberKeys, action: str, body: dict[str, Any]) -> Signed:
        return signed(keys, action, self.community, body)

    async def act(self, keys: MemberKeys, action: str, body: dict[str, Any]) -> Any:
        return await getattr(self.governance, action)(self.signed(keys, action, body))

    async def poll(self, author: MemberKeys, spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
        body = {"spec": spec, "closes_at": in_hours(24)} | extra
        return await self.act(author, "create_poll", body)  # type: ignore[no-any-return]

    async def vote(self, keys: MemberKeys, poll: str, choice: list[int], **extra: Any) -> dict[str, Any]:
        return await self.act(keys, "cast_ballot", {"poll": poll, "choice": choice} | extra)  # type: ignore[no-any-return]


def signed(keys: MemberKeys, action: str, community: str, body: dict[str, Any]) -> Signed:
    statement = sign_statement(
        keys,
        action=f"governance.{action}",
        community=community,
        body=body,
        nonce=secrets.token_hex(16),
        now=datetime.now(tz=UTC),
    )
    return Signed(community=community, statement=statement)


def in_hours(hours: float) -> str:
    return format_datetime(datetime.now(tz=UTC) + timedelta(hours=hours))


async def world(members: int = 4) -> World:
    membership, _ = service()
    community, admin = await community_with_admin(membership)
    people = [await admitted_member(membership, community, admin, f"M{i}") for i in range(members)]
    notices, live = MemoryNotices(), MemoryLiveNotices()
    governance = GovernanceHandlers(
        GovernanceApplication(env=POPO), InProcessMembership(membership), MemoryNonces(), notices, live=live
    )
    return World(governance, membership, notices, community, admin, people, live)
