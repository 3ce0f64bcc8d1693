"""The community-signer adapter over NATS, against a responder speaking the trust agent's contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from nats.aio.client import Client as NATS

from services.messaging.adapters.fakes import KeyedSigner
from services.messaging.adapters.signer import NatsCommunitySigner
from services.messaging.domain.announcement import announcement_credential
from shared.commands import CommandClient, CommandContext, CommandRouter
from shared.domain import DomainError
from shared.testkit.plugin import unique_service
from shared.trust.credentials import verify_credential
from shared.trust.resolver import default_resolver


class CommunityRequest(msgspec.Struct):
    community: str


class SignRequest(msgspec.Struct):
    community: str
    credential: dict[str, Any]


@pytest.fixture
async def trust_agent(nc: NATS) -> AsyncIterator[tuple[str, KeyedSigner]]:
    """`<service>.cmd.community_did` and `.sign_credential`, as identity is asked to offer them."""
    service, keys = unique_service("trust"), KeyedSigner()
    router = CommandRouter(service)

    @router.command("community_did", CommunityRequest)
    async def community_did(request: CommunityRequest, _: CommandContext) -> Any:
        return {"did": await keys.community_did(request.community)}

    @router.command("sign_credential", SignRequest)
    async def sign(request: SignRequest, _: CommandContext) -> Any:
        if request.credential.get("issuer") != await keys.community_did(request.community):
            raise DomainError("wrong_issuer", "the trust agent signs only as its own community")
        return {"credential": await keys.sign(request.community, request.credential)}

    await router.start(nc)
    yield service, keys
    await router.stop()


async def test_the_adapter_gets_a_credential_signed_by_the_community_did(
    nc: NATS, trust_agent: tuple[str, KeyedSigner]
) -> None:
    service, keys = trust_agent
    signer = NatsCommunitySigner(CommandClient(nc, timeout=5), service=service)
    issuer = await signer.community_did("acme")
    unsigned = announcement_credential(
        community="acme",
        issuer=issuer,
        announcement="a1",
        title="AGM",
        body="Thursday",
        audience=None,
        author="did:key:z6Mkada",
        issued="2026-01-01T00:00:00Z",
    )
    signed = await signer.sign("acme", unsigned)
    verified = verify_credential(signed, default_resolver(), now=datetime.now(tz=UTC))
    assert verified.issuer == keys.keys["acme"].did

    with pytest.raises(DomainError) as refused:
        await signer.sign("acme", unsigned | {"issuer": "did:key:z6Mkimpostor"})
    assert (refused.value.code, refused.value.status) == ("signature_refused", 422)


async def test_no_trust_agent_means_nothing_is_signed(nc: NATS) -> None:
    signer = NatsCommunitySigner(CommandClient(nc, timeout=1), service=unique_service("absent"))
    with pytest.raises(DomainError) as absent:
        await signer.community_did("acme")
    assert (absent.value.code, absent.value.status) == ("community_signature_unavailable", 503)
