"""Feed use cases: follow and unfollow, configure or import a feed definition, export it, read the feed.

The feed is computed at read time from signed content only: the authors' signed posts on SOCIAL,
and the announcements and forum threads on MESSAGING (whose commits are verified when read),
filtered by her rules: per-follow hashtags, content mix, and the trust profile (authors within N
hops of her mutual RelationshipCredentials).
"""

from __future__ import annotations

from typing import Any

from services.social.adapters.members import MemberRecord
from services.social.domain.commands import (
    ConfigureFeedBody,
    DefinitionQuery,
    FeedQuery,
    FollowBody,
    MemberQuery,
    Signed,
    UnfollowBody,
)
from services.social.domain.feed import FeedDefinition, FeedRules, feed_id
from services.social.domain.post_document import normalize_hashtags
from services.social.handlers.base import HandlerBase
from shared.application import NotFound
from shared.domain import DomainError
from shared.trust.did_key import parse_did_key
from shared.trust.errors import TrustError

MAX_PAGE = 200
EXCERPT = 280


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[:EXCERPT].rstrip() + "…"


class FeedHandlers(HandlerBase):
    def rules(self, community: str, member: str) -> FeedRules:
        return self.app.find(FeedRules, feed_id(community, member)) or FeedRules.new(community, member)

    async def follow(self, command: Signed) -> dict[str, Any]:
        statement, body = await self.acting(command, "follow", FollowBody)
        try:
            parse_did_key(body.author)
        except TrustError as exc:
            raise DomainError("invalid_request", f"follow a member's did:key: {exc}") from exc
        hashtags = normalize_hashtags(body.hashtags)
        rules = await self.run(self.rules, statement.community, statement.actor)
        rules.follow(body.author, hashtags, statement.document, self.clock())
        await self.save(rules)
        return {"definition": self.definition_view(rules.definition()), "shared": rules.shared}

    async def unfollow(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "unfollow")
        body = self.body(statement, UnfollowBody)
        rules = await self.run(self.rules, statement.community, statement.actor)
        rules.unfollow(body.author, statement.document, self.clock())
        await self.save(rules)
        return {"definition": self.definition_view(rules.definition()), "shared": rules.shared}

    async def configure_feed(self, command: Signed) -> dict[str, Any]:
        """Set her mix and trust profile, or import a shared definition (follows added or replaced)."""
        statement, body = await self.acting(command, "configure_feed", ConfigureFeedBody)
        definition = body.definition.checked()
        rules = await self.run(self.rules, statement.community, statement.actor)
        rules.configure(
            definition,
            statement.document,
            self.clock(),
            replace_follows=body.replace_follows,
            share=body.share,
        )
        await self.save(rules)
        return {"definition": self.definition_view(rules.definition()), "shared": rules.shared}

    async def export_feed(self, query: MemberQuery) -> dict[str, Any]:
        """Her feed definition as a shareable document (another member imports it with configure_feed)."""
        await self.member(query.community, query.member)
        rules = await self.run(self.rules, query.community, query.member)
        return {"definition": self.definition_view(rules.definition()), "shared": rules.shared}

    async def shared_definition(self, query: DefinitionQuery) -> dict[str, Any]:
        """Another member's feed definition, when she shares it (to adopt with configure_feed)."""
        await self.member(query.community, query.member)
        rules = await self.run(self.rules, query.community, query.owner)
        if query.owner != query.member and not rules.shared:
            raise NotFound("feed_not_shared", f"{query.owner} does not share a feed definition")
        return {"definition": self.definition_view(rules.definition()), "owner": query.owner}

    async def feed(self, query: FeedQuery) -> dict[str, Any]:
        if not 0 < query.limit <= MAX_PAGE:
            raise DomainError("invalid_request", f"limit is 1-{MAX_PAGE}")
        record = await self.member(query.community, query.member)
        rules = await self.run(self.rules, query.community, query.member)
        if self.content_source is not None:
            await self.content_source.catch_up()
        items = await self.query(lambda: self._items(query.community, record, rules))
        if query.before is not None:
            items = [item for item in items if item["at"] < query.before]
        page = items[: query.limit]
        return {
            "member": query.member,
            "definition": self.definition_view(rules.definition()),
            "items": page,
            "next": page[-1]["at"] if len(items) > len(page) else None,
        }

    def _items(self, community: str, member: MemberRecord, rules: FeedRules) -> list[dict[str, Any]]:
        trusted: set[str] | None = None
        if rules.trust.max_hops:
            trusted = set(self.network.graph(community).hops_from(member.did, rules.trust.max_hops))
        items: list[dict[str, Any]] = []
        if rules.mix.posts:
            for post in self.posts.visible(community):
                wanted = rules.follows.get(post.author)
                if wanted is None or (wanted and not set(wanted) & set(post.hashtags)):
                    continue
                if trusted is not None and post.author not in trusted:
                    continue
                items.append(
                    {
                        "kind": "post",
                        "id": post.post,
                        "by": post.author,
                        "title": post.headline,
                        "excerpt": _excerpt(post.body),
                        "hashtags": list(post.hashtags),
                        "at": post.at,
                    }
                )
        if rules.mix.announcements:
            for announcement in self.content.announcements_for(community, member):
                items.append(
                    {
                        "kind": "announcement",
                        "id": announcement.announcement,
                        "by": announcement.by,
                        "title": announcement.title,
                        "excerpt": _excerpt(announcement.body),
                        "at": announcement.at,
                    }
                )
        if rules.mix.discussions:
            for thread in self.content.threads_for(community, member):
                if trusted is not None and thread.by not in trusted:
                    continue
                items.append(
                    {
                        "kind": "discussion",
                        "id": thread.post,
                        "thread": thread.thread,
                        "category": thread.category,
                        "by": thread.by,
                        "title": thread.title,
                        "excerpt": _excerpt(thread.body),
                        "at": thread.at,
                    }
                )
        return sorted(items, key=lambda item: (item["at"], item["id"]), reverse=True)

    @staticmethod
    def definition_view(definition: FeedDefinition) -> dict[str, Any]:
        return {
            "type": definition.type,
            "version": definition.version,
            "name": definition.name,
            "follows": [{"author": f.author, "hashtags": list(f.hashtags)} for f in definition.follows],
            "mix": {
                "posts": definition.mix.posts,
                "announcements": definition.mix.announcements,
                "discussions": definition.mix.discussions,
            },
            "trust": {"max_hops": definition.trust.max_hops},
        }
