"""Community use cases: create (by a member or the hosting operator), configure, archive, read."""

from __future__ import annotations

from typing import Any

from services.membership.application import slug_token
from services.membership.domain.commands import (
    CommunitiesQuery,
    ConfigureBody,
    CreateCommunity,
    FounderBody,
    ReasonBody,
    Signed,
)
from services.membership.domain.community import Community, community_id
from services.membership.domain.member import Member, member_id
from services.membership.domain.member_key import MemberKey
from services.membership.handlers.base import HandlerBase
from shared.domain import DomainError
from shared.subjects import RESERVED_NAMES, RESERVED_PREFIX


class CommunityHandlers(HandlerBase):
    async def create_community(self, command: CreateCommunity) -> dict[str, Any]:
        slug = slug_token(command.slug)
        if slug.startswith(RESERVED_PREFIX) or slug in RESERVED_NAMES:
            raise DomainError("invalid_request", f"{slug!r} is a reserved name")
        now = self.clock()
        if (command.statement is None) == (command.admin is None):
            raise DomainError(
                "invalid_request", "give either the creator's signed statement or (as operator) --admin DID"
            )
        if command.statement is not None:
            statement = await self.verified(
                Signed(community=slug, statement=command.statement), "create_community"
            )
            admin, by, document = statement.actor, statement.actor, statement.document
            founder_name = self.body(statement, FounderBody).name
        else:
            admin, by, document = str(command.admin), "operator", None
            founder_name = command.admin_name
            if not admin.startswith("did:key:"):
                raise DomainError("invalid_request", "the first admin is a member did:key")
        if await self.run(self.app.exists, Community, community_id(slug)):
            raise DomainError("community_exists", f"community {slug!r} already exists")
        # The community is checked (name, policy) before identity is asked for anything; identity
        # creates the community's did:webvh together with the founder's first credential (one round
        # trip and one commit fewer than asking for the DID first), and the DID is read off it.
        checked = Community.create(
            slug=slug,
            name=command.name,
            did=PENDING_DID,
            policy=command.policy,
            admin=admin,
            by=by,
            statement=document,
            now=now,
        )
        founder = Member(member_id(slug, admin))
        founder.admit(
            kind=checked.policy.membership_type(None),
            roles=checked.policy.check_roles(("admin",)),
            by=by,
            statement=document,
            now=now,
            did=admin,
            name=founder_name,
        )
        issued = await self.issue_membership(checked, founder, now)
        community = Community.create(
            slug=slug,
            name=command.name,
            did=_issuer(founder.credentials[0].credential),
            policy=command.policy,
            admin=admin,
            by=by,
            statement=document,
            now=now,
        )
        key = MemberKey.claim(slug, admin, founder.id, now)
        try:
            await self.save(community, founder, key, issued=issued, slug=slug)
        except DomainError as exc:
            raise DomainError("community_exists", f"community {slug!r} already exists") from exc
        return self.community_view(community)

    async def configure_community(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "configure_community")
        body = self.body(statement, ConfigureBody)
        now = self.clock()
        community = await self.run(self.acting_admin, statement, now)
        community.configure(
            name=body.name,
            policy=body.policy or community.policy,
            by=statement.actor,
            statement=statement.document,
            now=now,
        )
        await self.save(community)
        return self.community_view(community)

    async def archive_community(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "archive_community")
        now = self.clock()
        community = await self.run(self.acting_admin, statement, now)
        community.archive(
            reason=self.body(statement, ReasonBody).reason,
            by=statement.actor,
            statement=statement.document,
            now=now,
        )
        await self.save(community)
        return self.community_view(community)

    async def list_communities(self, query: CommunitiesQuery) -> dict[str, Any]:
        """Every community hosted here with its member counts: the hosting provider's overview.

        Served on the bus only (`cos community list`), like `create_community` as operator: the
        gateway has no route to it, so no member of one community learns of the others."""
        if len(query.text) > 200:
            raise DomainError("invalid_request", "text is at most 200 characters")
        now = self.clock()
        hosted = await self.run(
            self.catch_up.query,
            lambda: self.communities.listing(
                now=now, text=query.text, include_archived=query.include_archived
            ),
        )
        return {"count": len(hosted), "communities": hosted}

    async def get_community(self, slug: str) -> dict[str, Any]:
        return self.community_view(await self.run(self.app.community, slug))

    @staticmethod
    def community_view(community: Community) -> dict[str, Any]:
        return {
            "slug": community.slug,
            "name": community.name,
            "did": community.did,
            "archived": community.archived,
            "policy": community.policy,
            "version": community.version,
        }


PENDING_DID = "did:pending:community"


def _issuer(credential: dict[str, Any]) -> str:
    """The DID that issued a credential (`issuer` is a DID or an object with its `id`)."""
    issuer = credential.get("issuer")
    found = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(found, str) or not found.startswith("did:"):
        raise DomainError("identity_unavailable", "identity issued a credential without an issuer DID")
    return found
