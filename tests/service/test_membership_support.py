"""Set-up shared by the membership service tests (no tests here): in-memory store, fake identity."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from services.membership.adapters.fakes import FakeCredentials, MemoryNonces
from services.membership.application import MembershipApplication
from services.membership.domain.commands import CreateCommunity, Signed
from services.membership.domain.policy import Policy
from services.membership.handlers import MembershipHandlers
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.trust.member_keys import MemberKeys

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def person() -> MemberKeys:
    return MemberKeys(SigningKey.generate())


def slug() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


def signed(keys: MemberKeys, action: str, community: str, body: dict[str, Any] | None = None) -> Signed:
    statement = sign_statement(
        keys,
        action=f"membership.{action}",
        community=community,
        body=body or {},
        nonce=secrets.token_hex(16),
        now=datetime.now(tz=UTC),
    )
    return Signed(community=community, statement=statement)


def service() -> tuple[MembershipHandlers, FakeCredentials]:
    identity = FakeCredentials()
    return MembershipHandlers(MembershipApplication(env=POPO), identity, MemoryNonces()), identity


async def community_with_admin(
    handlers: MembershipHandlers, policy: Policy | None = None
) -> tuple[str, MemberKeys]:
    community, admin = slug(), person()
    create = signed(admin, "create_community", community, {"name": "Ada"})
    await handlers.create_community(
        CreateCommunity(
            slug=community, name="River Co-op", policy=policy or Policy(), statement=create.statement
        )
    )
    return community, admin


async def admitted_member(
    handlers: MembershipHandlers, community: str, admin: MemberKeys, name: str = "Bea"
) -> MemberKeys:
    member = person()
    await handlers.apply(signed(member, "apply", community, {"name": name}))
    await handlers.admit(signed(admin, "admit", community, {"member": member.did}))
    return member
