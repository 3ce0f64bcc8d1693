"""Set-up shared by the messaging service tests (no tests here).

Membership runs for real on the session's nats-server (its MEMBERSHIP stream is what messaging
projects to gate every act), with the fake identity it ships; messaging keeps its own events in
memory and signs announcements with the did:key community signer it ships.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nacl.public import PublicKey, SealedBox
from nats.aio.client import Client as NATS

from services.membership.adapters.fakes import FakeCredentials
from services.membership.adapters.fakes import MemoryNonces as MembershipNonces
from services.membership.bootstrap import MembershipService, start_membership
from services.membership.domain.commands import CreateCommunity
from services.membership.domain.commands import Signed as MembershipSigned
from services.membership.domain.policy import MembershipType, Policy
from services.messaging.adapters.fakes import KeyedSigner, MemoryNonces, RecordedNotices
from services.messaging.adapters.mailer import Mailer
from services.messaging.bootstrap import MessagingService, start_messaging
from services.messaging.config import MessagingSettings
from services.messaging.domain.commands import Query, Signed
from services.messaging.entrypoints import QUERIES
from services.messaging.handlers import MessagingHandlers
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.trust.member_keys import MemberKeys
from shared.trust.x25519 import x25519_multikey_encode

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
POLICY = Policy(membership_types=(MembershipType("standard"), MembershipType("supporter")))


def person() -> MemberKeys:
    return MemberKeys(SigningKey.generate())


def statement(keys: MemberKeys, action: str, community: str, body: dict[str, Any]) -> dict[str, Any]:
    return sign_statement(
        keys,
        action=action,
        community=community,
        body=body,
        nonce=secrets.token_hex(16),
        now=datetime.now(tz=UTC),
    )


def seal_for(recipients: list[MemberKeys], text: str) -> list[dict[str, str]]:
    """What a client does: one sealed box per member, to the X25519 key of her did:key."""
    return [
        {
            "to": keys.did,
            "key": x25519_multikey_encode(keys.x25519_public_key),
            "box": base64.b64encode(
                SealedBox(PublicKey(keys.x25519_public_key)).encrypt(text.encode())
            ).decode(),
        }
        for keys in recipients
    ]


@dataclass
class World:
    """One community on real membership, with messaging beside it."""

    membership: MembershipService
    messaging: MessagingService
    signer: KeyedSigner
    notices: RecordedNotices
    community: str = field(default_factory=lambda: f"c{uuid.uuid4().hex[:10]}")
    admin: MemberKeys = field(default_factory=person)

    @property
    def handlers(self) -> MessagingHandlers:
        return self.messaging.handlers

    async def found(self) -> World:
        create = statement(self.admin, "membership.create_community", self.community, {"name": "Ada"})
        await self.membership.handlers.create_community(
            CreateCommunity(slug=self.community, name="River Co-op", policy=POLICY, statement=create)
        )
        return self

    async def membership_act(self, keys: MemberKeys, act: str, body: dict[str, Any]) -> Any:
        signed = MembershipSigned(self.community, statement(keys, f"membership.{act}", self.community, body))
        return await getattr(self.membership.handlers, act)(signed)

    async def admit(
        self,
        name: str = "Bea",
        roles: list[str] | None = None,
        type_: str = "standard",
        tags: list[str] | None = None,
    ) -> MemberKeys:
        keys = person()
        await self.membership_act(keys, "apply", {"name": name})
        await self.membership_act(
            self.admin, "admit", {"member": keys.did, "type": type_, "roles": roles or ["member"]}
        )
        if tags:
            await self.membership_act(self.admin, "update_profile", {"member": keys.did, "tags": tags})
        return keys

    def signed(
        self, keys: MemberKeys, action: str, body: dict[str, Any], community: str | None = None
    ) -> Signed:
        community = community or self.community
        return Signed(community, statement(keys, f"messaging.{action}", community, body))

    async def act(self, keys: MemberKeys, action: str, body: dict[str, Any]) -> Any:
        return await getattr(self.handlers, action)(self.signed(keys, action, body))

    async def query(self, keys: MemberKeys, name: str, **fields: Any) -> Any:
        method = QUERIES.get(name, name)  # the command's name, or the handler's
        return await getattr(self.handlers, method)(
            Query(community=self.community, member=keys.did, **fields)
        )


async def start_world(
    nc: NATS,
    nats_url: str,
    tmp_path: Path,
    mailer: Mailer | None = None,
    settings: MessagingSettings | None = None,
) -> World:
    membership = await start_membership(
        nc, nats_url, tmp_path / "membership", credentials=FakeCredentials(), nonces=MembershipNonces()
    )
    signer, notices = KeyedSigner(), RecordedNotices()
    messaging = await start_messaging(
        nc,
        nats_url,
        tmp_path / "messaging",
        settings or MessagingSettings(),
        env=POPO,
        signer=signer,
        nonces=MemoryNonces(),
        mailer=mailer,
        live=notices,
    )
    return World(membership, messaging, signer, notices)


# What `email_status` says of a member who chose no mail levels, with the default delay.
DEFAULT_MAIL_SETTINGS = {
    "decide": "normal",
    "discuss": "normal",
    "chat": "normal",
    "mail_delay_s": 600.0,
    "digest": {"frequency": "off", "hour": 7, "weekday": 0, "last": None},
    "bounced": None,
}


@asynccontextmanager
async def running_world(
    nc: NATS,
    nats_url: str,
    tmp_path: Path,
    mailer: Mailer | None = None,
    settings: MessagingSettings | None = None,
) -> AsyncIterator[World]:
    """A founded community; each test module's `world` fixture enters one."""
    started = await start_world(nc, nats_url, tmp_path, mailer, settings)
    try:
        yield await started.found()
    finally:
        await started.messaging.stop()
        await started.membership.stop()
