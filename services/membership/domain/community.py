"""A community (tenant): its name, slug, did:webvh and policies; archived communities accept no acts."""

from __future__ import annotations

from typing import Any

from services.membership.domain.events import CommunityArchived, CommunityConfigured, CommunityCreated
from services.membership.domain.policy import Policy
from shared.domain import Aggregate, DomainError, applies


def community_id(slug: str) -> str:
    return f"{slug}.community.profile"


def _checked_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise DomainError("invalid_name", "a community's name is 1-120 characters")
    return name


class Community(Aggregate):
    slug: str
    name: str
    did: str
    policy: Policy
    archived: bool

    @classmethod
    def create(
        cls,
        *,
        slug: str,
        name: str,
        did: str,
        policy: Policy,
        admin: str,
        by: str,
        statement: dict[str, Any] | None,
        now: int,
    ) -> Community:
        community = cls(community_id(slug))
        community.trigger(
            CommunityCreated,
            now,
            slug=slug,
            name=_checked_name(name),
            did=did,
            policy=policy.checked(),
            admin=admin,
            by=by,
            statement=statement,
        )
        return community

    @applies(CommunityCreated)
    def _created(self, event: CommunityCreated) -> None:
        self.slug = event.slug
        self.name = event.name
        self.did = event.did
        self.policy = event.policy
        self.archived = False

    def require_open(self) -> None:
        if self.archived:
            raise DomainError("community_archived", f"community {self.slug} is archived")

    def configure(
        self, *, name: str | None, policy: Policy, by: str, statement: dict[str, Any] | None, now: int
    ) -> None:
        self.require_open()
        self.trigger(
            CommunityConfigured,
            now,
            name=_checked_name(name) if name is not None else self.name,
            policy=policy.checked(),
            by=by,
            statement=statement,
        )

    @applies(CommunityConfigured)
    def _configured(self, event: CommunityConfigured) -> None:
        self.name = event.name
        self.policy = event.policy

    def archive(self, *, reason: str, by: str, statement: dict[str, Any] | None, now: int) -> None:
        self.require_open()
        self.trigger(CommunityArchived, now, reason=reason, by=by, statement=statement)

    @applies(CommunityArchived)
    def _archived(self, event: CommunityArchived) -> None:
        self.archived = True
