"""Member lifecycle use cases: invite, apply, admit, reject, suspend, reinstate, remove, leave,
renew, roles, profile and the member's acknowledgement of her credential."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from services.membership.domain.commands import (
    AcknowledgeBody,
    ApplyBody,
    InviteBody,
    MemberAct,
    ProfileBody,
    ReasonBody,
    Signed,
)
from services.membership.domain.community import Community
from services.membership.domain.member import Member, member_id
from services.membership.domain.member_key import MemberKey, email_key, external_key
from services.membership.handlers.base import Forbidden, HandlerBase
from shared.clock import moment
from shared.domain import DomainError
from shared.statements import VerifiedStatement
from shared.trust.credentials import verify_credential
from shared.trust.dtg_membership import validate_membership_acknowledgement
from shared.trust.errors import TrustError
from shared.trust.resolver import default_resolver


def new_code() -> tuple[str, str]:
    code = secrets.token_urlsafe(18)
    return code, hashlib.sha256(code.encode()).hexdigest()


class LifecycleHandlers(HandlerBase):
    # -- joining ---------------------------------------------------------------------------------

    async def invite(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "invite")
        body = self.body(statement, InviteBody)
        now = self.clock()
        community = await self.run(self.acting_admin, statement, now)
        keys = self.keys_of(body.email, body.external_id, body.did)
        if not keys:
            raise DomainError("invalid_request", "invite someone by did, email or external_id")
        await self.run(self.refuse_known, community.slug, keys)
        policy = community.policy
        code, code_hash = new_code()
        member = Member.invite(
            member_id(community.slug, keys[0]),
            name=body.name,
            email=body.email.strip().lower(),
            external_id=body.external_id.strip(),
            did=body.did,
            membership_type=policy.membership_type(body.type).name,
            roles=policy.check_roles(body.roles),
            tags=body.tags,
            profile=policy.check_profile(body.profile, complete=False),
            code_hash=code_hash,
            source="invite",
            by=statement.actor,
            statement=statement.document,
            now=now,
        )
        claims = [MemberKey.claim(community.slug, key, member.id, now) for key in keys]
        await self.save(member, *claims)
        return {**self.member_view(member, now), "code": code}

    async def apply(self, command: Signed) -> dict[str, Any]:
        """Join: with an invitation (admitted at once) or, where the join mode allows, by application."""
        statement = await self.verified(command, "apply")
        body = self.body(statement, ApplyBody)
        now = self.clock()
        community = await self.run(self.open_community, statement.community)
        member, invited, claims = await self.run(self.applicant, community, statement, body, now)
        policy = community.policy
        answers = policy.check_answers(body.answers, complete=not invited)  # invited: screened already
        member.apply(
            did=statement.actor,
            name=body.name,
            answers=answers,
            profile=policy.check_profile(body.profile, complete=not invited),
            membership_type=policy.membership_type(body.type or member.membership_type or None).name,
            statement=statement.document,
            now=now,
        )
        issued: list[int] = []
        if invited:
            # The admin who invited her admitted her in advance; her acceptance completes it.
            member.admit(
                kind=policy.membership_type(member.membership_type),
                roles=policy.check_roles(member.roles),
                by=member.invited_by,
                statement=None,
                now=now,
            )
            issued = await self.issue_membership(community, member, now)
        await self.save(member, *claims, issued=issued, slug=community.slug)
        return self.member_view(member, now)

    def applicant(
        self, community: Community, statement: VerifiedStatement, body: ApplyBody, now: int
    ) -> tuple[Member, bool, list[MemberKey]]:
        did = statement.actor
        known = self.app.member_by_key(community.slug, did)
        if body.invitation is not None:
            ref = body.invitation
            keys = self.keys_of(ref.email, ref.external_id, "")
            invited = self.app.member_by_key(community.slug, keys[0]) if keys else None
            if invited is None:
                raise DomainError("invalid_invitation", "no invitation for that email or external id")
            if known is not None and known.id != invited.id:
                raise DomainError("duplicate_member", f"{did} is already known in {community.slug}")
            invited.check_invitation(did=did, code=ref.code)
            claims = [] if known is not None else [MemberKey.claim(community.slug, did, invited.id, now)]
            return invited, True, claims
        if known is not None:
            if known.status == "invited" and known.did == did:
                known.check_invitation(did=did, code="")
                return known, True, []
            raise DomainError(
                "duplicate_member", f"{did} is already known in {community.slug} ({known.status})"
            )
        if community.policy.join_mode == "invite_only":
            raise DomainError("invitation_required", f"{community.slug} admits members by invitation only")
        member = Member(member_id(community.slug, did))
        return member, False, [MemberKey.claim(community.slug, did, member.id, now)]

    async def admit(self, command: Signed) -> dict[str, Any]:
        statement, community, member, body, now = await self.admin_act(command, "admit")
        policy = community.policy
        member.admit(
            kind=policy.membership_type(body.type or member.membership_type or None),
            roles=policy.check_roles(body.roles if body.roles is not None else member.roles),
            by=statement.actor,
            statement=statement.document,
            now=now,
        )
        issued = await self.issue_membership(community, member, now)
        await self.save(member, issued=issued, slug=community.slug)
        return self.member_view(member, now)

    async def reject(self, command: Signed) -> dict[str, Any]:
        statement, _, member, body, now = await self.admin_act(command, "reject")
        member.reject(reason=body.reason, by=statement.actor, statement=statement.document, now=now)
        await self.save(member)
        return self.member_view(member, now)

    # -- while a member --------------------------------------------------------------------------

    async def suspend(self, command: Signed) -> dict[str, Any]:
        statement, community, member, body, now = await self.admin_act(command, "suspend")
        if member.did == statement.actor:
            raise DomainError("self_suspension", "an admin cannot suspend herself")
        member.suspend(reason=body.reason, by=statement.actor, statement=statement.document, now=now)
        await self.flip_and_save(community.slug, member, "suspension", True, now)
        return self.member_view(member, now)

    async def reinstate(self, command: Signed) -> dict[str, Any]:
        statement, community, member, _, now = await self.admin_act(command, "reinstate")
        member.reinstate(by=statement.actor, statement=statement.document, now=now)
        await self.flip_and_save(community.slug, member, "suspension", False, now)
        return self.member_view(member, now)

    async def remove(self, command: Signed) -> dict[str, Any]:
        statement, community, member, body, now = await self.admin_act(command, "remove")
        if member.did == statement.actor:
            raise DomainError("self_removal", "an admin leaves with `leave`, not by removing herself")
        member.remove(reason=body.reason, by=statement.actor, statement=statement.document, now=now)
        await self.flip_and_save(community.slug, member, "revocation", True, now)
        return self.member_view(member, now)

    async def leave(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "leave")
        self.body(statement, ReasonBody)
        now = self.clock()
        await self.run(self.open_community, statement.community)
        member = await self.run(self.app.member_by_did, statement.community, statement.actor)
        if "admin" in member.roles:
            await self.refuse_last_admin(statement.community, member.did, now)
        member.leave(statement=statement.document, now=now)
        await self.flip_and_save(statement.community, member, "revocation", True, now)
        return self.member_view(member, now)

    async def refuse_last_admin(self, community: str, did: str, now: int) -> None:
        """A community must keep an admin: the last active one appoints another before leaving.

        Judged on the directory (caught up first); two admins leaving at the same instant could
        both pass, which the next admin act would reveal (a community with no admin is re-seeded
        by its hosting provider with `cos community create --admin` semantics)."""
        admins = await self.run(
            self.catch_up.query,
            lambda: self.directory.search(community, now=now, role="admin", status="active"),
        )
        if not [entry for entry in admins if entry["did"] != did]:
            raise DomainError("last_admin", "you are the community's last admin; appoint another admin first")

    async def renew(self, command: Signed) -> dict[str, Any]:
        statement, community, member, body, now = await self.admin_act(command, "renew")
        kind = community.policy.membership_type(body.type or member.membership_type)
        member.renew(kind=kind, by=statement.actor, statement=statement.document, now=now)
        issued = await self.issue_membership(community, member, now)
        await self.save(member, issued=issued, slug=community.slug)
        return self.member_view(member, now)

    async def assign_roles(self, command: Signed) -> dict[str, Any]:
        statement, community, member, body, now = await self.admin_act(command, "assign_roles")
        if body.roles is None:
            raise DomainError("invalid_request", "name the roles to assign")
        roles = community.policy.check_roles(body.roles)
        if member.did == statement.actor and "admin" not in roles:
            raise DomainError("self_demotion", "an admin cannot remove her own admin role")
        previous = [c.status_index for c in member.credentials if c.kind == "AuthorityCredential"][-1:]
        member.change_roles(roles=roles, by=statement.actor, statement=statement.document, now=now)
        for index in previous:  # the old roles must stop being provable
            await self.credentials.set_status(community.slug, index, "revocation", True)
            member.record_status(index=index, purpose="revocation", value=True, now=now)
        issued = await self.issue_authority(community, member, now)
        await self.save(member, issued=issued, slug=community.slug)
        return self.member_view(member, now)

    async def update_profile(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "update_profile")
        body = self.body(statement, ProfileBody)
        now = self.clock()
        if body.member is not None and body.member != statement.actor:
            community = await self.run(self.acting_admin, statement, now)
            member = await self.run(self.app.member_by_did, community.slug, body.member)
        else:
            community = await self.run(self.open_community, statement.community)
            member = await self.run(self.acting_member, community.slug, statement.actor, now)
        member.update_profile(
            name=body.name,
            profile=community.policy.check_profile(body.profile, complete=False),
            tags=body.tags,
            by=statement.actor,
            statement=statement.document,
            now=now,
        )
        await self.save(member)
        return self.member_view(member, now)

    async def acknowledge(self, command: Signed) -> dict[str, Any]:
        """Record the member's signed acknowledgement (digestMultibase) of her MembershipCredential."""
        statement = await self.verified(command, "acknowledge")
        body = self.body(statement, AcknowledgeBody)
        now = self.clock()
        community = await self.run(self.open_community, statement.community)
        member = await self.run(self.acting_member, community.slug, statement.actor, now)
        grant = member.membership_credential
        if grant is None:
            raise DomainError("no_credential", "there is no membership credential to acknowledge")
        try:
            verified = verify_credential(body.acknowledgement, default_resolver(), now=moment(now))
            matched = validate_membership_acknowledgement(verified.credential, grant.credential)
        except TrustError as exc:
            raise DomainError("invalid_acknowledgement", f"{exc} [{exc.reason}]") from exc
        if matched.credential.issuer != statement.actor:
            raise DomainError("invalid_acknowledgement", "the acknowledgement is not the member's own")
        member.acknowledge(
            acknowledgement=verified.credential,
            digest=matched.digest,
            statement=statement.document,
            now=now,
        )
        await self.save(member)
        return self.member_view(member, now)

    # -- helpers ---------------------------------------------------------------------------------

    async def admin_act(
        self, command: Signed, action: str
    ) -> tuple[VerifiedStatement, Community, Member, MemberAct, int]:
        statement = await self.verified(command, action)
        body = self.body(statement, MemberAct)
        now = self.clock()
        community = await self.run(self.acting_admin, statement, now)
        member = await self.run(self.app.member_by_did, community.slug, body.member)
        return statement, community, member, body, now

    async def flip_and_save(
        self, community: str, member: Member, purpose: str, value: bool, now: int
    ) -> None:
        """Flip the member's credential status bit, then record her change; undo the flip if the
        record fails, so the status list never disagrees with the log."""
        flipped = await self.flip(community, member, purpose, value, now)
        await self.save_or_unflip(member, community, purpose, flipped, value)

    async def save_or_unflip(
        self, member: Member, slug: str, purpose: Any, flipped: list[int], value: bool
    ) -> None:
        try:
            await self.run(self.app.save_or_conflict, member)
        except DomainError:
            for index in flipped:  # put the status list back as the log says it is
                try:
                    await self.credentials.set_status(slug, index, purpose, not value)
                except DomainError:
                    continue
            raise

    @staticmethod
    def keys_of(email: str, external_id: str, did: str) -> list[str]:
        keys = []
        if email.strip():
            keys.append(email_key(email))
        if external_id.strip():
            keys.append(external_key(external_id))
        if did:
            if not did.startswith("did:key:"):
                raise DomainError("invalid_request", "a member's DID is a did:key")
            keys.append(did)
        return keys

    def refuse_known(self, community: str, keys: list[str]) -> None:
        for key in keys:
            known = self.app.member_by_key(community, key)
            if known is not None:
                what = key.split(":", 1)[0] if not key.startswith("did:") else "DID"
                raise DomainError(
                    "duplicate_member", f"this {what} already names a member of {community} ({known.status})"
                )


__all__ = ["Forbidden", "LifecycleHandlers"]
