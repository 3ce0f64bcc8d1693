"""The social service's NATS adapters against real request/reply on a real server."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from nats.aio.client import Client as NATS

from services.social.adapters.chat import NatsChatOpener
from services.social.adapters.members import MembershipUnavailable, NatsRoster
from shared.application import NotFound
from shared.commands import CommandClient, CommandContext, CommandRouter
from shared.domain import DomainError
from shared.testkit.plugin import unique_service


class Anything(msgspec.Struct):
    community: str


async def test_a_chat_already_opened_by_an_earlier_attempt_counts_as_opened(nc: NATS) -> None:
    opener = NatsChatOpener(CommandClient(nc, timeout=10))
    request: dict[str, Any] = {"action": "messaging.create_conversation", "body": {"conversation": "intro-x"}}
    assert await opener.open_group_chat("acme", request) == ""  # nobody answers: pending

    router = CommandRouter("messaging")
    opened: list[str] = []

    @router.command("create_conversation", Anything)
    async def create(command: Anything, _: CommandContext) -> Any:
        if opened:
            raise DomainError("conversation_exists", "conversation intro-x already exists")
        opened.append(command.community)
        return {"conversation": "intro-x", "kind": "group"}

    await router.start(nc)
    try:
        assert await opener.open_group_chat("acme", request) == "intro-x"
        assert await opener.open_group_chat("acme", request) == "intro-x"
    finally:
        await router.stop()


async def test_the_roster_reads_membership_and_says_when_it_cannot(nc: NATS) -> None:
    roster = NatsRoster(CommandClient(nc, timeout=10))
    with pytest.raises(MembershipUnavailable) as silent:
        await roster.member(unique_service("c"), "did:key:z6Mkada")
    assert (silent.value.code, silent.value.status) == ("membership_unavailable", 503)

    class MemberQuery(msgspec.Struct):
        community: str
        member: str

    router = CommandRouter("membership")

    @router.command("member", MemberQuery)
    async def member(query: MemberQuery, _: CommandContext) -> Any:
        if query.member != "did:key:z6Mkada":
            raise NotFound("unknown_member", f"{query.member} is not known")
        return {"name": "Ada", "standing": "in_grace", "roles": ["member", "admin"], "tags": ["x"]}

    await router.start(nc)
    try:
        record = await roster.member("acme", "did:key:z6Mkada")
        assert record is not None
        assert (record.standing, record.in_good_standing, record.roles) == (
            "in_grace",
            True,
            ("member", "admin"),
        )
        assert await roster.member("acme", "did:key:z6Mkbea") is None
    finally:
        await router.stop()
