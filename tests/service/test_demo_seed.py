"""The demo seed on real identity and membership services: people, roles, an invite, idempotence."""

from __future__ import annotations

import importlib
import secrets
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from nats.aio.client import Client as NATS

from cos.demo import ADMINS, MEMBERS, seed_demo
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.membership.bootstrap import start_membership
from shared.commands import CommandClient
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually_async
from shared.trust.member_keys import MemberKeys


@pytest.fixture
async def services(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[CommandClient]:
    identity = await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings())
    membership = await start_membership(nc, nats_url, tmp_path / "membership")
    try:
        yield CommandClient(nc, timeout=10)
    finally:
        await membership.stop()
        await identity.stop()


def invite_of(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    route, _, query = parts.fragment.partition("?")
    assert route == "/join"
    return {key: values[0] for key, values in parse_qs(query).items()}


async def test_the_demo_is_seeded_once_and_its_invite_lets_a_newcomer_join(
    services: CommandClient, nats_url: str, tmp_path: Path
) -> None:
    community = unique_service("demo")
    data = tmp_path / "demo"
    first = await seed_demo(nats_url, "http://127.0.0.1:8000/", data, community=community)
    assert first.created
    assert first.url == "http://127.0.0.1:8000/app/"
    assert set(first.seeded) == {"community", "members", "applicants", "invite"}
    assert stat.S_IMODE((data / "demo.json").stat().st_mode) == 0o600

    roll = await services.call("membership", "roll", {"community": community})
    assert roll["members"] == sorted([*first.admins, *first.members])
    admins = await services.call("membership", "directory", {"community": community, "role": "admin"})
    assert sorted(entry["did"] for entry in admins["members"]) == sorted(first.admins)
    assert len(first.admins) == len(ADMINS)
    assert len(first.members) == len(MEMBERS)
    waiting = await services.call("membership", "directory", {"community": community, "status": "applied"})
    assert [entry["did"] for entry in waiting["members"]] == list(first.applicants)

    again = await seed_demo(nats_url, "http://127.0.0.1:8000", data, community=community)
    assert not again.created
    assert again.seeded == ()
    assert again.invite_url == first.invite_url
    roll_again = await services.call("membership", "roll", {"community": community})
    assert roll_again["members"] == roll["members"]

    # The newcomer follows the link: accepts the identity invite, then joins with the invitation.
    invite = invite_of(first.invite_url)
    assert invite["c"] == community
    newcomer = MemberKeys(SigningKey.generate())

    def signed(action: str, body: dict[str, object]) -> dict[str, object]:
        return sign_statement(
            newcomer, action=action, community=community, body=body,
            nonce=secrets.token_hex(16), now=datetime.now(tz=UTC),
        )  # fmt: skip

    pending = await services.call("identity", "get_invite", {"community": community, "invite": invite["i"]})
    assert pending["status"] == "pending"
    accept = signed("identity.accept_invite", {"invite": invite["i"], "token": invite["t"]})
    await services.call("identity", "accept_invite", {"community": community, "statement": accept})
    joined = await services.call(
        "membership",
        "apply",
        {
            "community": community,
            "statement": signed(
                "membership.apply",
                {"name": "Sam", "invitation": {"email": invite["e"], "code": invite["k"]}},
            ),
        },
    )
    assert joined["standing"] == "active"

    # The invite is used: the next start makes a fresh one instead of handing out a dead link.
    third = await seed_demo(nats_url, "http://127.0.0.1:8000", data, community=community)
    assert third.seeded == ("invite",)
    assert invite_of(third.invite_url)["i"] != invite["i"]
    final = await services.call("membership", "roll", {"community": community})
    assert final["members"] == sorted([*first.admins, *first.members, newcomer.did])


async def test_documents_poll_and_posts_are_seeded_once_when_their_services_run(
    nc: NATS, nats_url: str, tmp_path: Path
) -> None:
    community = unique_service("demo")
    started: list[Any] = [
        await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings()),
        await start_membership(nc, nats_url, tmp_path / "membership"),
    ]
    try:
        for name in ("messaging", "governance", "knowledge"):
            module = importlib.import_module(f"services.{name}.bootstrap")
            started.append(await module.start(nc, nats_url, tmp_path / name))
        client = CommandClient(nc, timeout=10)
        first = await seed_demo(nats_url, "http://127.0.0.1:8000", tmp_path / "demo", community=community)
        assert {"documents", "poll", "meeting", "forums", "chat"} <= set(first.seeded)
        again = await seed_demo(nats_url, "http://127.0.0.1:8000", tmp_path / "demo", community=community)
        assert again.seeded == ()

        polls = (await client.call("governance", "list_polls", {"community": community}))["polls"]
        assert sorted((poll["poll"], poll["status"]) for poll in polls) == [
            ("market-day", "open"),
            ("members-meeting", "open"),
        ]
        meeting = await client.call(
            "governance", "results", {"community": community, "poll": "members-meeting"}
        )
        assert meeting["voted"] == 2
        reader = first.members[0]

        async def documents() -> list[str]:
            # The library lists what the index holds. Knowledge runs here for every community and
            # indexes the whole session's streams from their start, so the seeded documents may
            # become searchable after the seed's upload stopped waiting for them.
            library = await client.call("knowledge", "library", {"community": community, "member": reader})
            titles = sorted(doc["title"] for doc in library["documents"])
            return titles if len(titles) >= 2 else []

        assert await eventually_async(documents, within=120) == ["Bulk-buying guide", "Member handbook"]
        categories = await client.call("messaging", "categories", {"community": community, "member": reader})
        assert {c["category"]: c["threads"] for c in categories["categories"]} == {
            "general": 1,
            "suppliers": 1,
        }
        welcome = await client.call(
            "messaging", "thread", {"community": community, "member": reader, "thread": "welcome"}
        )
        assert len(welcome["posts"]) == 2
    finally:
        for service in reversed(started):
            await service.stop()
