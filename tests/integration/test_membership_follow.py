"""Membership read models follow the MEMBERSHIP stream on JetStream as commits land.

Queries read their own writes without replaying anything themselves, the follower applies commits
nobody has queried for yet, and a restarted service rebuilds the same read models (nothing applied
twice).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from nats.aio.client import Client as NATS

from services.membership.adapters.fakes import FakeCredentials, MemoryNonces
from services.membership.bootstrap import MembershipService, start_membership
from services.membership.domain.commands import DirectoryQuery, MemberQuery, RollQuery
from shared.jetstream.store import split_notification_id
from shared.testkit.polling import eventually
from tests.service.test_membership_support import admitted_member, community_with_admin


async def start(nc: NATS, nats_url: str, data_dir: Path) -> MembershipService:
    return await start_membership(
        nc, nats_url, data_dir, credentials=FakeCredentials(), nonces=MemoryNonces()
    )


async def test_read_models_follow_the_stream_and_survive_a_restart(
    nc: NATS, nats_url: str, tmp_path: Path
) -> None:
    service = await start(nc, nats_url, tmp_path)
    handlers = service.handlers
    try:
        community, admin = await community_with_admin(handlers)
        members = [await admitted_member(handlers, community, admin, name) for name in ("Bea", "Cy", "Di")]

        # Read-your-writes: the query waits for the commits it must see.
        roll = await handlers.roll_at(RollQuery(community))
        assert sorted(roll["members"]) == sorted([admin.did, *(m.did for m in members)])

        # Writes nobody queries for are applied by the follower, as they land.
        late = await admitted_member(handlers, community, admin, "Ed")
        head = split_notification_id(handlers.catch_up.head())[0]
        reached = await eventually(lambda: split_notification_id(handlers.catch_up.position)[0] >= head)
        assert reached
        assert late.did in handlers.roll.members(community, time.time_ns())

        trail_before = (await handlers.audit_trail(MemberQuery(community, late.did)))["trail"]
        directory_before = await handlers.directory_search(DirectoryQuery(community))
    finally:
        await service.stop()

    restarted = await start(nc, nats_url, tmp_path)
    try:
        trail_after = (await restarted.handlers.audit_trail(MemberQuery(community, late.did)))["trail"]
        assert trail_after == trail_before
        assert await restarted.handlers.directory_search(DirectoryQuery(community)) == directory_before
        # Following from the restored position applies only what is new, once.
        await asyncio.to_thread(restarted.handlers.catch_up)
        assert (await restarted.handlers.audit_trail(MemberQuery(community, late.did)))[
            "trail"
        ] == trail_before
    finally:
        await restarted.stop()
