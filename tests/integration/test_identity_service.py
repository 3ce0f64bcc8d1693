"""The identity service over real NATS: PLANET invites (pending → connected) and DID sign-in."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from services.identity.bootstrap import IdentityService, start_identity
from services.identity.config import IdentitySettings
from shared.commands import CommandClient, CommandRejected
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually
from shared.tokens import verify_token
from shared.trust.credentials import issue_credential
from shared.trust.datetimes import format_datetime
from shared.trust.member_keys import MemberKeys


@pytest.fixture
async def identity(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[IdentityService]:
    service = await start_identity(nc, nats_url, tmp_path, IdentitySettings(invite_limit=2))
    yield service
    await service.stop()


def now() -> datetime:
    return datetime.now(tz=UTC)


def signed(keys: MemberKeys, action: str, community: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "community": community,
        "statement": sign_statement(
            keys,
            action=action,
            community=community,
            body=body,
            nonce=secrets.token_hex(16),
            now=now(),
        ),
    }


def invitation(inviter: MemberKeys, community: str, name: str) -> dict[str, Any]:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "InvitationCredential"],
        "issuer": inviter.did,
        "validFrom": format_datetime(now() - timedelta(minutes=1)),
        "validUntil": format_datetime(now() + timedelta(days=7)),
        "credentialSubject": {"name": name, "community": community},
    }
    return issue_credential(credential, inviter, created=now())


async def create_invite(
    client: CommandClient, inviter: MemberKeys, community: str, name: str
) -> tuple[str, str]:
    ident, token = secrets.token_hex(8), secrets.token_urlsafe(24)
    await client.call(
        "identity",
        "create_invite",
        signed(
            inviter,
            "identity.create_invite",
            community,
            {
                "invite": ident,
                "recipient_name": name,
                "expires_at": format_datetime(now() + timedelta(days=7)),
                "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                "credential": invitation(inviter, community, name),
            },
        ),
    )
    return ident, token


def member() -> MemberKeys:
    return MemberKeys(SigningKey.generate())


async def test_an_invite_connects_inviter_and_invitee_once(identity: IdentityService, nc: NATS) -> None:
    community = unique_service("c")
    client = CommandClient(nc)
    ada, bea = member(), member()
    ident, token = await create_invite(client, ada, community, "Bea")
    summary = await client.call("identity", "get_invite", {"community": community, "invite": ident})
    assert (summary["status"], summary["recipient_name"], summary["inviter"]) == ("pending", "Bea", ada.did)

    view = identity.contacts.view
    pending = await eventually(lambda: view.contacts_of(community, ada.did))
    assert pending == [{"invite": ident, "did": None, "name": "Bea", "status": "pending"}]

    accepted = await client.call(
        "identity",
        "accept_invite",
        signed(bea, "identity.accept_invite", community, {"invite": ident, "token": token}),
    )
    assert (accepted["status"], accepted["invitee"]) == ("accepted", bea.did)
    both = await eventually(
        lambda: (
            view.contacts_of(community, bea.did)
            and view.contacts_of(community, ada.did)[0]["status"] == "connected"
        )
    )
    assert both
    assert view.contacts_of(community, ada.did)[0]["did"] == bea.did
    assert view.contacts_of(community, bea.did) == [
        {"invite": ident, "did": ada.did, "name": ada.did, "status": "connected"}
    ]

    with pytest.raises(CommandRejected) as reused:
        await client.call(
            "identity",
            "accept_invite",
            signed(member(), "identity.accept_invite", community, {"invite": ident, "token": token}),
        )
    assert reused.value.type == "invite_used"


async def test_wrong_tokens_limits_revocation_and_replays_are_refused(
    identity: IdentityService, nc: NATS
) -> None:
    community = unique_service("c")
    client = CommandClient(nc)
    ada = member()
    first, _ = await create_invite(client, ada, community, "Cy")
    with pytest.raises(CommandRejected) as wrong:
        await client.call(
            "identity",
            "accept_invite",
            signed(member(), "identity.accept_invite", community, {"invite": first, "token": "guess"}),
        )
    assert wrong.value.type == "invalid_invite_token"

    await create_invite(client, ada, community, "Di")
    with pytest.raises(CommandRejected) as limited:
        await create_invite(client, ada, community, "Ed")
    assert limited.value.type == "invite_limit_reached"

    with pytest.raises(CommandRejected) as not_mine:
        await client.call(
            "identity",
            "revoke_invite",
            signed(member(), "identity.revoke_invite", community, {"invite": first}),
        )
    assert not_mine.value.type == "not_inviter"
    revoke = signed(ada, "identity.revoke_invite", community, {"invite": first})
    assert (await client.call("identity", "revoke_invite", revoke))["status"] == "revoked"
    await create_invite(client, ada, community, "Ed")  # the revoked invite freed a place

    with pytest.raises(CommandRejected) as replayed:
        await client.call("identity", "revoke_invite", revoke)
    assert (replayed.value.type, replayed.value.status) == ("statement_replayed", 401)

    forged = signed(ada, "identity.create_invite", community, {"invite": "x"})
    forged["statement"]["actor"] = member().did
    with pytest.raises(CommandRejected) as refused:
        await client.call("identity", "create_invite", forged)
    assert refused.value.type == "forged_statement"


async def test_sign_in_by_challenge_then_refresh_rotates_and_reuse_ends_the_session(
    identity: IdentityService, nc: NATS
) -> None:
    community = unique_service("c")
    client = CommandClient(nc)
    ada = member()
    challenge = (await client.call("identity", "challenge", {"community": community, "member": ada.did}))[
        "challenge"
    ]
    answer = signed(ada, "identity.sign_in", community, {"challenge": challenge})
    tokens = await client.call("identity", "sign_in", answer)
    issuers = set((await client.call("identity", "token_keys", {}))["issuers"])
    claims = verify_token(
        tokens["access_token"],
        trusted_issuers=issuers,
        now=int(time.time()),
        purpose="access",
        community=community,
    )
    assert (claims.sub, claims.sid) == (ada.did, tokens["session"])

    again = signed(ada, "identity.sign_in", community, {"challenge": challenge})
    with pytest.raises(CommandRejected) as used:
        await client.call("identity", "sign_in", again)
    assert used.value.type == "challenge_used"
    with pytest.raises(CommandRejected) as other:
        await client.call(
            "identity", "sign_in", signed(member(), "identity.sign_in", community, {"challenge": challenge})
        )
    assert other.value.type == "wrong_member"

    session = {"community": community, "session": tokens["session"]}
    rotated = await client.call("identity", "refresh", {**session, "refresh_token": tokens["refresh_token"]})
    assert rotated["refresh_token"] != tokens["refresh_token"]
    with pytest.raises(CommandRejected) as stolen:
        await client.call("identity", "refresh", {**session, "refresh_token": tokens["refresh_token"]})
    assert stolen.value.type == "refresh_token_reused"
    with pytest.raises(CommandRejected) as ended:
        await client.call("identity", "refresh", {**session, "refresh_token": rotated["refresh_token"]})
    assert ended.value.type == "session_ended"

    view = identity.sessions.view
    listed = await eventually(
        lambda: (rows := view.sessions_of(community, ada.did)) and not rows[0]["active"] and rows
    )
    assert [(r["session"], r["ended_reason"]) for r in listed] == [
        (tokens["session"], "refresh_token_reused")
    ]
