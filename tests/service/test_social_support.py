"""Set-up shared by the social service tests (no tests here): in-memory store, fake roster and chats."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from services.social.adapters.fakes import FakeChats, FakeRoster, MemoryNonces
from services.social.application import SocialApplication
from services.social.client.signing import (
    introduction_chat_request,
    signed_post,
    signed_relationship,
    social_statement,
)
from services.social.domain.commands import Signed
from services.social.handlers import SocialHandlers
from shared.signing import SigningKey
from shared.trust.member_keys import MemberKeys

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def person() -> MemberKeys:
    return MemberKeys(SigningKey.generate())


def slug() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


def ident() -> str:
    return uuid.uuid4().hex[:16]


def signed(keys: MemberKeys, action: str, community: str, body: dict[str, Any] | None = None) -> Signed:
    return Signed(community=community, statement=social_statement(keys, action, community, body or {}))


@dataclass
class World:
    """One social service over an in-memory store, and a community with members."""

    handlers: SocialHandlers
    roster: FakeRoster
    chats: FakeChats
    community: str = field(default_factory=slug)

    def member(self, name: str = "", roles: tuple[str, ...] = ("member",)) -> MemberKeys:
        keys = person()
        self.roster.admit(self.community, keys.did, name, roles)
        return keys

    def act(self, keys: MemberKeys, action: str, body: dict[str, Any]) -> Signed:
        return signed(keys, action, self.community, body)

    async def publish(self, keys: MemberKeys, headline: str, hashtags: list[str] | None = None) -> str:
        post = ident()
        document = signed_post(
            keys, self.community, post, headline=headline, body=f"About {headline}.", hashtags=hashtags
        )
        await self.handlers.publish_post(self.act(keys, "publish_post", {"post": post, "document": document}))
        return post

    async def consent(
        self, keys: MemberKeys, introduction: str, other: MemberKeys, introducer: MemberKeys | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "introduction": introduction,
            "consent": True,
            "relationship": signed_relationship(keys, other.did),
        }
        if introducer is not None:
            members = [keys.did, other.did, introducer.did]
            body["chat"] = introduction_chat_request(keys, self.community, introduction, members)
        return await self.handlers.answer_introduction(self.act(keys, "answer_introduction", body))


def world() -> World:
    roster, chats = FakeRoster(), FakeChats()
    handlers = SocialHandlers(SocialApplication(env=POPO), roster, MemoryNonces(), chats)
    return World(handlers, roster, chats)
