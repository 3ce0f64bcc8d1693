"""NATS command handlers of the identity service (`identity.cmd.<name>`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from services.identity.application import IdentityApplication
from services.identity.community_trust import CommunityTrust
from services.identity.projections.contacts import ContactsView
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


class CommunityRequest(msgspec.Struct, forbid_unknown_fields=True):
    community: str


class IssueCredential(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    type: str
    subject: str
    claims: dict[str, Any]
    valid_until: str


class SignCredential(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    credential: dict[str, Any]


class SetStatus(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    index: int
    purpose: str
    value: bool


class StatusListRequest(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    purpose: str


class MemberQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str


def build_router(
    app: IdentityApplication,
    nonces: NonceRegistry,
    trust: CommunityTrust,
    contacts: ContactsView,
    clock: Callable[[], int] = time.time_ns,
) -> CommandRouter:
    router = CommandRouter("identity")
    _trust_commands(router, trust, clock)

    @router.command("contacts", MemberQuery)
    async def contacts_of(query: MemberQuery, _: CommandContext) -> Any:
        return {"contacts": await asyncio.to_thread(contacts.contacts_of, query.community, query.member)}

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


def _trust_commands(router: CommandRouter, trust: CommunityTrust, clock: Callable[[], int]) -> None:
    """Commands other services send to a community's trust agent. Only services may call them:
    in production, NATS permissions grant `identity.cmd.issue_credential` and
    `identity.cmd.set_credential_status` to the membership service's account alone, and
    `identity.cmd.sign_credential` (announcements signed as the community) to messaging's."""

    @router.command("community_did", CommunityRequest)
    async def community_did(request: CommunityRequest, _: CommandContext) -> Any:
        return await asyncio.to_thread(trust.community_did, request.community, clock())

    @router.command("rotate_community_key", CommunityRequest)
    async def rotate(request: CommunityRequest, _: CommandContext) -> Any:
        return await asyncio.to_thread(trust.rotate_key, request.community, clock())

    @router.command("did_log", CommunityRequest)
    async def did_log(request: CommunityRequest, _: CommandContext) -> Any:
        return {"log": await asyncio.to_thread(trust.did_log, request.community)}

    @router.command("issue_credential", IssueCredential)
    async def issue(request: IssueCredential, _: CommandContext) -> Any:
        return await asyncio.to_thread(
            trust.issue_credential,
            request.community,
            request.type,
            request.subject,
            request.claims,
            request.valid_until,
            clock(),
        )

    @router.command("sign_credential", SignCredential)
    async def sign(request: SignCredential, _: CommandContext) -> Any:
        return await asyncio.to_thread(trust.sign_document, request.community, request.credential, clock())

    @router.command("set_credential_status", SetStatus)
    async def set_status(request: SetStatus, _: CommandContext) -> Any:
        return await asyncio.to_thread(
            trust.set_status, request.community, request.index, request.purpose, request.value, clock()
        )

    @router.command("status_list", StatusListRequest)
    async def status_list(request: StatusListRequest, _: CommandContext) -> Any:
        return await asyncio.to_thread(trust.status_list, request.community, request.purpose, clock())
