"""What every social use case shares: statements, the member check, atomic saves, read models."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import msgspec

from services.social.adapters.chat import ChatOpener
from services.social.adapters.members import MemberRecord, Roster
from services.social.application import SocialApplication, token
from services.social.domain.commands import Signed
from services.social.projections.content import ContentView
from services.social.projections.network import NetworkView
from services.social.projections.posts import PostsView
from services.social.projections.vault import VaultIndex
from shared.catchup import CatchUp
from shared.clock import moment
from shared.commands import CommandRejected
from shared.domain import DomainError
from shared.retry import remember, remembered, saved
from shared.statements import Nonces, StatementRejected, VerifiedStatement, verify_statement

B = TypeVar("B", bound=msgspec.Struct)
R = TypeVar("R")


class ContentSource(Protocol):
    """Brings the content view (MESSAGING events) up to date before a feed is computed."""

    async def catch_up(self) -> None: ...


class Forbidden(DomainError):
    status = 403


class HandlerBase:
    def __init__(
        self,
        app: SocialApplication,
        roster: Roster,
        nonces: Nonces,
        chats: ChatOpener,
        content: ContentView | None = None,
        content_source: ContentSource | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.app = app
        self.roster = roster
        self.nonces = nonces
        self.chats = chats
        self.clock = clock
        self.posts = PostsView()
        self.network = NetworkView()
        self.vault_index = VaultIndex()
        self.content = content or ContentView()
        self.content_source = content_source
        self.catch_up = CatchUp(app, [self.posts, self.network, self.vault_index])

    @staticmethod
    async def run(fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.to_thread(fn, *args)

    async def query(self, read: Callable[[], R]) -> R:
        return await self.run(self.catch_up.query, read)

    async def verified(self, command: Signed, action: str) -> VerifiedStatement:
        """The statement, checked (signature, action, community, window) and its nonce claimed;
        an attempt run again after a lost race (`shared/retry.py`) reuses the first one's."""
        token(command.community, "community")
        if (earlier := remembered(action)) is not None:
            return earlier
        try:
            statement = verify_statement(
                command.statement,
                action=f"social.{action}",
                community=command.community,
                now=moment(self.clock()),
            )
            await self.nonces.claim(statement)
        except StatementRejected as exc:
            raise CommandRejected(str(exc.code), exc.message, 401) from exc
        remember(action, statement)
        return statement

    @staticmethod
    def body(statement: VerifiedStatement, body_type: type[B]) -> B:
        try:
            return msgspec.convert(statement.body, body_type)
        except msgspec.ValidationError as exc:
            raise DomainError("invalid_request", f"statement body: {exc}") from exc

    async def member(self, community: str, did: str) -> MemberRecord:
        """Her record when she is a member in good standing of `community`, else a 403 refusal."""
        token(community, "community")
        record = await self.roster.member(community, did)
        if record is None or not record.in_good_standing:
            state = "not known" if record is None else record.standing
            raise Forbidden(
                "not_a_member", f"{did} is not a member in good standing of {community} ({state})"
            )
        return record

    async def acting(self, command: Signed, action: str, body_type: type[B]) -> tuple[VerifiedStatement, B]:
        """A member's act: her verified statement, its body, and her good standing checked."""
        statement = await self.verified(command, action)
        body = self.body(statement, body_type)
        await self.member(statement.community, statement.actor)
        return statement, body

    async def save(self, *aggregates: Any) -> None:
        await self.run(self.app.save_or_conflict, *aggregates)
        saved()
