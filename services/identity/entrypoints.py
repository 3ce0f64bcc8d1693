"""NATS command handlers of the identity service (`identity.cmd.<name>`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from services.identity.application import IdentityApplication
from shared.commands import CommandContext, CommandRejected, CommandRouter
from shared.statements import NonceRegistry, StatementRejected, VerifiedStatement, verify_statement


class Signed(msgspec.Struct, forbid_unknown_fields=True):
    """A command that carries a member's signed statement."""

    community: str
    statement: dict[str, Any]


class ChallengeRequest(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str


class SessionRequest(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    session: str
    refresh_token: str


class InviteQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    invite: str


def build_router(
    app: IdentityApplication, nonces: NonceRegistry, clock: Callable[[], int] = time.time_ns
) -> CommandRouter:
    router = CommandRouter("identity")

    async def verified(command: Signed, action: str) -> VerifiedStatement:
        now = datetime.fromtimestamp(clock() / 1e9, tz=UTC)
        try:
            statement = verify_statement(
                command.statement, action=action, community=command.community, now=now
            )
            await nonces.claim(statement)
        except StatementRejected as exc:
            raise CommandRejected(str(exc.code), exc.message, 401) from exc
        return statement

    @router.command("create_invite", Signed)
    async def create_invite(command: Signed, _: CommandContext) -> Any:
        statement = await verified(command, "identity.create_invite")
        return await asyncio.to_thread(app.create_invite, statement, clock())

    @router.command("accept_invite", Signed)
    async def accept_invite(command: Signed, _: CommandContext) -> Any:
        statement = await verified(command, "identity.accept_invite")
        return await asyncio.to_thread(app.accept_invite, statement, clock())

    @router.command("revoke_invite", Signed)
    async def revoke_invite(command: Signed, _: CommandContext) -> Any:
        statement = await verified(command, "identity.revoke_invite")
        return await asyncio.to_thread(app.revoke_invite, statement, clock())

    @router.command("get_invite", InviteQuery)
    async def get_invite(query: InviteQuery, _: CommandContext) -> Any:
        return await asyncio.to_thread(app.get_invite, query.community, query.invite, clock())

    @router.command("challenge", ChallengeRequest)
    async def challenge(request: ChallengeRequest, _: CommandContext) -> Any:
        return app.issue_challenge(request.community, request.member, clock())

    @router.command("sign_in", Signed)
    async def sign_in(command: Signed, _: CommandContext) -> Any:
        statement = await verified(command, "identity.sign_in")
        claims = app.check_challenge(statement, clock())
        one_time = VerifiedStatement(
            actor=statement.actor,
            action="identity.challenge",
            community=statement.community,
            nonce=claims.nonce,
            body={},
            document={},
        )
        try:
            await nonces.claim(one_time)  # a challenge answers one sign-in only
        except StatementRejected as exc:
            raise CommandRejected("challenge_used", "this challenge was already answered", 401) from exc
        return await asyncio.to_thread(app.sign_in, statement, clock())

    @router.command("refresh", SessionRequest)
    async def refresh(request: SessionRequest, _: CommandContext) -> Any:
        return await asyncio.to_thread(
            app.refresh, request.community, request.session, request.refresh_token, clock()
        )

    @router.command("sign_out", SessionRequest)
    async def sign_out(request: SessionRequest, _: CommandContext) -> Any:
        return await asyncio.to_thread(
            app.sign_out, request.community, request.session, request.refresh_token, clock()
        )

    @router.command("token_keys", msgspec.Struct)
    async def token_keys(_: msgspec.Struct, __: CommandContext) -> Any:
        return {"issuers": [app.token_key.key_id]}

    return router
