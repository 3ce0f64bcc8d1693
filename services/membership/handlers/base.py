"""What every membership use case shares: statements, admin checks, credentials, atomic saves."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import msgspec

from services.membership.adapters.credentials import CredentialIssuer
from services.membership.application import MembershipApplication, slug_token
from services.membership.domain.commands import Signed
from services.membership.domain.community import Community
from services.membership.domain.member import Member
from services.membership.projections.audit import AuditView
from services.membership.projections.communities import CommunitiesView
from services.membership.projections.directory import DirectoryView
from services.membership.projections.roll import RollView
from services.membership.retry import remember, remembered
from shared.application import NotFound
from shared.catchup import CatchUp
from shared.clock import moment, rfc3339
from shared.commands import CommandRejected
from shared.domain import DomainError
from shared.statements import Nonces, StatementRejected, VerifiedStatement, verify_statement

B = TypeVar("B", bound=msgspec.Struct)
R = TypeVar("R")


class Forbidden(DomainError):
    status = 403


class HandlerBase:
    def __init__(
        self,
        app: MembershipApplication,
        credentials: CredentialIssuer,
        nonces: Nonces,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.nonces = nonces
        self.clock = clock
        self.roll = RollView()
        self.directory = DirectoryView()
        self.audit = AuditView()
        self.communities = CommunitiesView(self.directory)
        self.catch_up = CatchUp(app, [self.roll, self.directory, self.audit, self.communities])

    @staticmethod
    async def run(fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.to_thread(fn, *args)

    async def verified(self, command: Signed | Any, action: str) -> VerifiedStatement:
        """The statement, checked (signature, action, community, window) and its nonce claimed.

        When the command is run again after an optimistic-concurrency conflict (`retry.py`), the
        statement verified by the first attempt is reused: its nonce is already (rightly) claimed.
        """
        slug_token(command.community)
        if (earlier := remembered(action)) is not None:
            return earlier
        try:
            statement = verify_statement(
                command.statement,
                action=f"membership.{action}",
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

    def open_community(self, slug: str) -> Community:
        community = self.app.community(slug)
        community.require_open()
        return community

    def acting_member(self, community: str, did: str, now: int) -> Member:
        try:
            member = self.app.member_by_did(community, did)
        except NotFound:
            raise Forbidden("not_a_member", f"{did} is not a member of {community}") from None
        member.require_may_act(now)
        return member

    def acting_admin(self, statement: VerifiedStatement, now: int) -> Community:
        """The community, when the statement's actor is an admin of THIS community in good standing."""
        community = self.open_community(statement.community)
        try:
            admin = self.app.member_by_did(community.slug, statement.actor)
        except NotFound:
            raise Forbidden(
                "not_an_admin", f"{statement.actor} is not an admin of community {community.slug}"
            ) from None
        admin.require_may_act(now)
        if "admin" not in admin.roles:
            raise Forbidden(
                "not_an_admin", f"{statement.actor} is not an admin of community {community.slug}"
            )
        return community

    # -- credentials ---------------------------------------------------------------------------

    async def issue_membership(self, community: Community, member: Member, now: int) -> list[int]:
        """Ask identity for the member's MembershipCredential (and an AuthorityCredential for roles)."""
        valid_until = rfc3339(member.expires_ns + member.grace_ns)
        issued = await self.credentials.issue(
            community.slug,
            "MembershipCredential",
            member.did,
            {"community": community.slug, "membershipType": member.membership_type},
            valid_until,
        )
        member.record_credential(
            kind="MembershipCredential",
            credential=issued.credential,
            index=issued.status.index,
            status_list=issued.status.list,
            valid_until=valid_until,
            now=now,
        )
        indexes = [issued.status.index]
        try:
            indexes += await self.issue_authority(community, member, now)
        except DomainError:
            await self.revoke_quietly(community.slug, indexes)
            raise
        return indexes

    async def issue_authority(self, community: Community, member: Member, now: int) -> list[int]:
        roles = [role for role in member.roles if role != "member"]
        if not roles:
            return []
        valid_until = rfc3339(member.expires_ns + member.grace_ns)
        issued = await self.credentials.issue(
            community.slug,
            "AuthorityCredential",
            member.did,
            {"community": community.slug, "roles": roles},
            valid_until,
        )
        member.record_credential(
            kind="AuthorityCredential",
            credential=issued.credential,
            index=issued.status.index,
            status_list=issued.status.list,
            valid_until=valid_until,
            now=now,
        )
        return [issued.status.index]

    async def flip(self, slug: str, member: Member, purpose: Any, value: bool, now: int) -> list[int]:
        """Set the status bit of every credential the member holds; record each flip."""
        flipped = []
        for issued in {c.status_index: c for c in member.credentials}.values():
            await self.credentials.set_status(slug, issued.status_index, purpose, value)
            member.record_status(index=issued.status_index, purpose=purpose, value=value, now=now)
            flipped.append(issued.status_index)
        return flipped

    async def revoke_quietly(self, slug: str, indexes: list[int]) -> None:
        # Compensation after a refused save: the credentials issued for it must not stay valid.
        for index in indexes:
            with contextlib.suppress(DomainError):
                await self.credentials.set_status(slug, index, "revocation", True)

    async def save(self, *aggregates: Any, issued: Sequence[int] = (), slug: str = "") -> None:
        try:
            await self.run(self.app.save_or_conflict, *aggregates)
        except DomainError:
            await self.revoke_quietly(slug, list(issued))
            raise

    @staticmethod
    def member_view(member: Member, now: int) -> dict[str, Any]:
        credential = member.membership_credential
        return {
            "member": member.id.rsplit(".", 1)[-1],
            "did": member.did,
            "name": member.name,
            "status": member.status,
            "standing": member.standing(now),
            "membership_type": member.membership_type,
            "roles": list(member.roles),
            "tags": list(member.tags),
            "expires_at": rfc3339(member.expires_ns) if member.expires_ns else None,
            "credential": credential.credential if credential else None,
            "acknowledged": bool(member.acknowledged_digest),
        }
