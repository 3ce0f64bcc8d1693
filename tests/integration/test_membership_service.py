"""The membership service over real NATS and JetStream, with a fake identity responder on the bus."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from nats.aio.client import Client as NATS

from services.membership.adapters.credentials import NatsCredentials
from services.membership.adapters.fakes import FakeCredentials
from services.membership.bootstrap import MembershipService, start_membership
from services.membership.domain.merkle import merkle_root
from shared.commands import CommandClient, CommandContext, CommandRejected, CommandRouter
from shared.domain import DomainError
from shared.envelope import Commit, open_envelope
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.testkit.plugin import unique_service
from shared.trust.member_keys import MemberKeys


class Issue(msgspec.Struct):
    community: str
    type: str
    subject: str
    claims: dict[str, Any]
    valid_until: str


class SetStatus(msgspec.Struct):
    community: str
    index: int
    purpose: str
    value: bool


class CommunityDid(msgspec.Struct):
    community: str


def fake_identity(backend: FakeCredentials) -> CommandRouter:
    """identity.cmd.{community_did, issue_credential, set_credential_status} as the contract says."""
    router = CommandRouter("identity")

    @router.command("community_did", CommunityDid)
    async def community_did(payload: CommunityDid, _: CommandContext) -> Any:
        return {"did": await backend.community_did(payload.community)}

    @router.command("issue_credential", Issue)
    async def issue(payload: Issue, _: CommandContext) -> Any:
        if payload.subject == "did:key:refused":
            raise DomainError("invalid_subject", "not a did:key")
        issued = await backend.issue(
            payload.community,
            payload.type,  # type: ignore[arg-type]
            payload.subject,
            payload.claims,
            payload.valid_until,
        )
        return {"credential": issued.credential, "status": msgspec.to_builtins(issued.status)}

    @router.command("set_credential_status", SetStatus)
    async def set_status(payload: SetStatus, _: CommandContext) -> Any:
        await backend.set_status(payload.community, payload.index, payload.purpose, payload.value)  # type: ignore[arg-type]
        return {"index": payload.index, "value": payload.value}

    return router


@pytest.fixture
async def identity(nc: NATS) -> AsyncIterator[FakeCredentials]:
    backend = FakeCredentials()
    router = fake_identity(backend)
    await router.start(nc)
    yield backend
    await router.stop()


@pytest.fixture
async def membership(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[MembershipService]:
    service = await start_membership(nc, nats_url, tmp_path)
    yield service
    await service.stop()


def person() -> MemberKeys:
    return MemberKeys(SigningKey.generate())


def signed(
    keys: MemberKeys, action: str, community: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement = sign_statement(
        keys,
        action=f"membership.{action}",
        community=community,
        body=body or {},
        nonce=secrets.token_hex(16),
        now=datetime.now(tz=UTC),
    )
    return {"community": community, "statement": statement}


async def test_the_nats_credentials_adapter_speaks_the_identity_contract(
    nc: NATS, identity: FakeCredentials
) -> None:
    credentials = NatsCredentials(CommandClient(nc, timeout=5))
    community, bea = unique_service("c"), person()
    did = await credentials.community_did(community)
    assert did == identity.keys[community].did
    issued = await credentials.issue(
        community, "MembershipCredential", bea.did, {"community": community}, "2030-01-01T00:00:00Z"
    )
    assert (issued.credential["issuer"], issued.credential["credentialSubject"]["id"]) == (did, bea.did)
    assert issued.status.purpose == "revocation"
    await credentials.set_status(community, issued.status.index, "suspension", True)
    assert identity.status[(community, issued.status.index, "suspension")] is True
    with pytest.raises(DomainError) as refused:
        await credentials.issue(
            community, "MembershipCredential", "did:key:refused", {}, "2030-01-01T00:00:00Z"
        )
    assert refused.value.code == "credential_refused"
    assert "invalid_subject" in refused.value.message


async def test_without_an_identity_service_the_adapter_says_so(nc: NATS) -> None:
    credentials = NatsCredentials(CommandClient(nc, timeout=1))
    with pytest.raises(DomainError) as down:
        await credentials.community_did(unique_service("c"))
    assert (down.value.code, down.value.status) == ("credentials_unavailable", 503)


async def test_a_community_runs_over_nats_with_signed_acts_refusals_and_a_committed_roll(
    nc: NATS, nats_url: str, tmp_path: Path, identity: FakeCredentials, membership: MembershipService
) -> None:
    client = CommandClient(nc, timeout=10)
    river, lake = unique_service("river"), unique_service("lake")
    ada, lee, bea = person(), person(), person()
    created = await client.call(
        "membership",
        "create_community",
        {"slug": river, "name": "River", "statement": signed(ada, "create_community", river)["statement"]},
    )
    assert created["did"] == identity.keys[river].did
    await client.call("membership", "create_community", {"slug": lake, "name": "Lake", "admin": lee.did})

    await client.call("membership", "apply", signed(bea, "apply", river, {"name": "Bea"}))
    admitted = await client.call("membership", "admit", signed(ada, "admit", river, {"member": bea.did}))
    assert admitted["status"] == "active"

    with pytest.raises(CommandRejected) as foreign:
        await client.call("membership", "suspend", signed(lee, "suspend", river, {"member": bea.did}))
    assert (foreign.value.type, foreign.value.status) == ("not_an_admin", 403)

    await client.call("membership", "suspend", signed(ada, "suspend", river, {"member": bea.did}))
    with pytest.raises(CommandRejected) as suspended:
        await client.call("membership", "update_profile", signed(bea, "update_profile", river, {"name": "B"}))
    assert suspended.value.type == "member_suspended"
    with pytest.raises(CommandRejected) as duplicate:
        await client.call("membership", "apply", signed(bea, "apply", river, {"name": "Bea"}))
    assert duplicate.value.type == "duplicate_member"

    directory = await client.call("membership", "directory", {"community": river, "status": "suspended"})
    assert [m["did"] for m in directory["members"]] == [bea.did]
    trail = await client.call("membership", "audit", {"community": river, "member": bea.did})
    assert [e["by"] for e in trail["trail"]][-2] == ada.did  # the suspension, with Ada's statement
    with pytest.raises(CommandRejected) as malformed:
        await client.call("membership", "admit", {"community": river})
    assert malformed.value.type == "invalid_request"

    snapshot = await client.call("membership", "snapshot_roll", {"community": river})
    assert (snapshot["members"], snapshot["size"]) == ([ada.did], 1)
    assert snapshot["root"] == merkle_root([ada.did]).hex()

    js = nc.jetstream()
    stored = await js.get_last_msg("MEMBERSHIP", f"membership.{river}.roll.{snapshot['snapshot']}")
    commit = open_envelope(stored.data)  # the signature verifies over the exact stored bytes
    instance = SigningKey.load_or_create(tmp_path / "keys" / "membership-instance.seed")
    assert isinstance(commit, Commit)
    assert (commit.signer, commit.event_types) == (instance.key_id, ["membership.roll_snapshotted.v1"])

    # A fresh instance rebuilds its read models from the stream.
    again = await start_membership(nc, nats_url, tmp_path)
    try:
        assert again.handlers.roll.members(river, snapshot_at(snapshot)) == [ada.did]
        assert (
            again.handlers.directory.search(river, now=snapshot_at(snapshot), status="suspended")[0]["did"]
            == bea.did
        )
    finally:
        await again.stop()


def snapshot_at(snapshot: dict[str, Any]) -> int:
    return int(snapshot["at_ns"])
