"""On JetStream: a restarted messaging service rebuilds its read models and membership gate from the logs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from services.membership.adapters.fakes import FakeCredentials
from services.membership.adapters.fakes import MemoryNonces as MembershipNonces
from services.membership.bootstrap import start_membership
from services.messaging.adapters.fakes import KeyedSigner, MemoryNonces, RecordedNotices
from services.messaging.bootstrap import start_messaging
from services.messaging.config import MessagingSettings
from shared.domain import DomainError

from .test_messaging_support import World, person


async def test_a_restart_rebuilds_threads_inboxes_and_standing_from_the_streams(
    nc: NATS, nats_url: str, tmp_path: Path
) -> None:
    membership = await start_membership(
        nc, nats_url, tmp_path / "membership", credentials=FakeCredentials(), nonces=MembershipNonces()
    )
    signer, community, admin = KeyedSigner(), f"c{uuid.uuid4().hex[:10]}", person()

    async def messaging_instance() -> World:
        messaging = await start_messaging(
            nc,
            nats_url,
            tmp_path / "messaging",
            MessagingSettings(),
            signer=signer,
            nonces=MemoryNonces(),
            live=RecordedNotices(),
        )
        return World(membership, messaging, signer, RecordedNotices(), community=community, admin=admin)

    first = await messaging_instance()
    try:
        await first.found()
        bea = await first.admit("Bea")
        await first.act(admin, "create_category", {"category": "general", "name": "General"})
        thread = await first.act(
            bea, "start_thread", {"category": "general", "title": "Hi", "body": "first!"}
        )
        await first.act(admin, "compose_announcement", {"title": "AGM", "body": "Thursday"})
    finally:
        await first.messaging.stop()

    second = await messaging_instance()
    try:
        shown = await second.query(bea, "thread", thread=thread["thread"])
        assert [p["body"] for p in shown["posts"]] == ["first!"]
        assert [a["title"] for a in (await second.query(bea, "inbox_of"))["announcements"]] == ["AGM"]
        await second.membership_act(admin, "suspend", {"member": bea.did, "reason": "cooling off"})
        with pytest.raises(DomainError) as suspended:
            await second.act(bea, "reply", {"thread": thread["thread"], "body": "still here?"})
        assert suspended.value.code == "member_suspended"
    finally:
        await second.messaging.stop()
        await membership.stop()
