"""A community's trust agent over real NATS: did:webvh log, credentials, status lists, rotation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from services.identity.bootstrap import IdentityService, start_identity
from services.identity.config import IdentitySettings
from shared.commands import CommandClient, CommandRejected
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually
from shared.trust.credentials import verify_credential
from shared.trust.errors import TrustError
from shared.trust.resolver import default_resolver
from shared.trust.webvh_controller import WebvhLog
from shared.trust.webvh_did import did_log_url

MEMBER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@pytest.fixture
async def identity(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[IdentityService]:
    service = await start_identity(nc, nats_url, tmp_path, IdentitySettings())
    yield service
    await service.stop()


class Published:
    """What the gateway would serve: DID logs and status lists, fetched from the trust agent."""

    def __init__(self, client: CommandClient, community: str) -> None:
        self.client, self.community = client, community
        self.documents: dict[str, bytes] = {}

    async def refresh(self, did: str) -> None:
        log = (await self.client.call("identity", "did_log", {"community": self.community}))["log"]
        self.documents[did_log_url(did)] = log.encode()
        for purpose in ("revocation", "suspension"):
            listed = await self.client.call(
                "identity", "status_list", {"community": self.community, "purpose": purpose}
            )
            self.documents[listed["id"]] = json.dumps(listed).encode()

    def fetch(self, url: str) -> bytes:
        return self.documents[url]


def assert_verifies(log: str, did: str, entries: int) -> None:
    verified = WebvhLog.from_jsonl(log).verify(datetime.now(tz=UTC))
    verified.raise_for_failure()
    assert len(verified.entries) == entries
    assert WebvhLog.from_jsonl(log).did == did


def verify(credential: dict[str, Any], published: Published) -> None:
    now = datetime.now(tz=UTC)
    resolver = default_resolver(webvh_fetcher=published.fetch, now=now)
    verify_credential(credential, resolver, now=now, status_list_fetcher=published.fetch)


async def test_membership_credentials_verify_until_suspended_or_revoked(
    identity: IdentityService, nc: NATS
) -> None:
    community = unique_service("c")
    client = CommandClient(nc)
    did = (await client.call("identity", "community_did", {"community": community}))["did"]
    assert did.startswith("did:webvh:")
    assert did.endswith(f":c:{community}")
    log = (await client.call("identity", "did_log", {"community": community}))["log"]
    assert_verifies(log, did, entries=1)

    until = (datetime.now(tz=UTC) + timedelta(days=365)).isoformat()
    issued = await client.call(
        "identity",
        "issue_credential",
        {
            "community": community,
            "type": "MembershipCredential",
            "subject": MEMBER,
            "claims": {},
            "valid_until": until,
        },
    )
    credential, index = issued["credential"], issued["status"]["index"]
    assert credential["issuer"] == did
    published = Published(client, community)
    await published.refresh(did)
    verify(credential, published)

    async def set_status(purpose: str, value: bool) -> None:
        await client.call(
            "identity",
            "set_credential_status",
            {
                "community": community,
                "index": index,
                "purpose": purpose,
                "value": value,
            },
        )
        await published.refresh(did)

    await set_status("suspension", True)
    with pytest.raises(TrustError, match="suspen"):
        verify(credential, published)
    await set_status("suspension", False)
    verify(credential, published)
    await set_status("revocation", True)
    with pytest.raises(TrustError, match="revok"):
        verify(credential, published)
    with pytest.raises(CommandRejected) as final:
        await client.call(
            "identity",
            "set_credential_status",
            {
                "community": community,
                "index": index,
                "purpose": "revocation",
                "value": False,
            },
        )
    assert final.value.type == "revocation_is_final"


async def test_key_rotation_follows_the_committed_key_and_bad_requests_are_refused(
    identity: IdentityService, nc: NATS
) -> None:
    community = unique_service("c")
    client = CommandClient(nc)
    did = (await client.call("identity", "community_did", {"community": community}))["did"]
    refusals = []
    # Immediate rotations, until one falls in the same second as the one before it (of three, two
    # at least do, unless a loaded machine takes a second for each).
    for _ in range(20):
        try:
            await client.call("identity", "rotate_community_key", {"community": community})
        except CommandRejected as refused:
            refusals.append(refused.type)
            break
    assert refusals
    assert set(refusals) == {"rotation_too_soon"}
    state = await client.call("identity", "community_did", {"community": community})
    await asyncio.sleep(1.1)
    rotated = await client.call("identity", "rotate_community_key", {"community": community})
    assert rotated == {"did": did, "key_index": state["key_index"] + 1}
    log = (await client.call("identity", "did_log", {"community": community}))["log"]
    assert_verifies(log, did, entries=rotated["key_index"] + 1)

    until = (datetime.now(tz=UTC) + timedelta(days=30)).isoformat()
    roles = await client.call(
        "identity",
        "issue_credential",
        {
            "community": community,
            "type": "AuthorityCredential",
            "subject": MEMBER,
            "claims": {"roles": ["admin"]},
            "valid_until": until,
        },
    )
    assert roles["credential"]["proof"]["verificationMethod"] == f"{did}#key-{rotated['key_index']}"
    published = Published(client, community)
    await published.refresh(did)
    verify(roles["credential"], published)

    documents = identity.did_documents.view
    current = await eventually(
        lambda: (
            (d := documents.document(did)) and d["versionId"].startswith(f"{rotated['key_index'] + 1}-") and d
        )
    )
    assert current["document"]["verificationMethod"][0]["id"] == f"{did}#key-{rotated['key_index']}"

    refusals = [
        ({"type": "PassportCredential", "claims": {}}, "unsupported_credential_type"),
        ({"type": "AuthorityCredential", "claims": {}}, "invalid_claims"),
        ({"type": "MembershipCredential", "claims": {}, "valid_until": "yesterday"}, "invalid_valid_until"),
    ]
    for changes, expected in refusals:
        request = {"community": community, "subject": MEMBER, "valid_until": until, **changes}
        with pytest.raises(CommandRejected) as refused:
            await client.call("identity", "issue_credential", request)
        assert refused.value.type == expected
    with pytest.raises(CommandRejected) as unknown:
        await client.call(
            "identity",
            "set_credential_status",
            {
                "community": community,
                "index": 999,
                "purpose": "suspension",
                "value": True,
            },
        )
    assert unknown.value.type == "unknown_status_index"


async def test_other_services_documents_are_signed_as_the_community_but_never_a_membership(
    identity: IdentityService, nc: NATS
) -> None:
    community = unique_service("c")
    client = CommandClient(nc)
    did = (await client.call("identity", "community_did", {"community": community}))["did"]
    now = datetime.now(tz=UTC).replace(microsecond=0).isoformat()

    def announcement(issuer: object, *types: str) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", *types],
            "issuer": issuer,
            "validFrom": now,
            "credentialSubject": {"id": f"urn:uuid:{community}", "title": "AGM on Friday"},
        }

    signed = (
        await client.call(
            "identity",
            "sign_credential",
            {"community": community, "credential": announcement(did, "AnnouncementCredential")},
        )
    )["credential"]
    assert signed["proof"]["verificationMethod"].startswith(f"{did}#key-")
    published = Published(client, community)
    await published.refresh(did)
    verify(signed, published)
    signed["credentialSubject"]["title"] = "AGM cancelled"
    with pytest.raises(TrustError):
        verify(signed, published)

    other = (await client.call("identity", "community_did", {"community": unique_service("c")}))["did"]
    refusals = [
        (announcement(other, "AnnouncementCredential"), "wrong_issuer"),
        (announcement(did, "MembershipCredential"), "reserved_credential_type"),
        (announcement(did, "AuthorityCredential"), "reserved_credential_type"),
        ({**announcement(did), "type": "VerifiableCredential"}, "invalid_credential"),
        ({**announcement(did, "AnnouncementCredential"), "proof": {"type": "x"}}, "invalid_credential"),
    ]
    for credential, expected in refusals:
        with pytest.raises(CommandRejected) as refused:
            await client.call(
                "identity", "sign_credential", {"community": community, "credential": credential}
            )
        assert refused.value.type == expected, credential
