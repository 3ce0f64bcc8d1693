"""A member's feed rules: whom she follows (with per-follow hashtags), the content mix, the trust profile.

A definition is shareable: `definition()` exports it as a plain document and `FeedDefinition`
imports one, so a member can adopt (or start from) someone else's feed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from services.social.domain.events import AuthorFollowed, AuthorUnfollowed, FeedConfigured
from services.social.domain.post_document import normalize_hashtags
from shared.domain import Aggregate, DomainError, applies

Document = dict[str, Any]
DEFINITION_TYPE = "cos.feed-definition"
MAX_FOLLOWS = 1000
MAX_HOPS = 6


def feed_id(community: str, member: str) -> str:
    return f"{community}.feed.{hashlib.sha256(member.encode()).hexdigest()[:40]}"


class Follow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    author: str
    hashtags: tuple[str, ...] = ()


class Mix(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    posts: bool = True
    announcements: bool = True
    discussions: bool = True


class Trust(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_hops: int = 0  # 0 = anyone; N = authors within N hops of her relationship credentials


class FeedDefinition(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The shareable form of a feed (what `export_feed` gives and `import_feed` takes)."""

    type: str = DEFINITION_TYPE
    version: int = 1
    name: str = "Home"
    follows: tuple[Follow, ...] = ()
    mix: Mix = Mix()
    trust: Trust = Trust()

    def checked(self) -> FeedDefinition:
        if self.type != DEFINITION_TYPE or self.version != 1:
            raise DomainError("invalid_feed", f"a feed definition has type {DEFINITION_TYPE!r} and version 1")
        if not 0 < len(self.name.strip()) <= 100:
            raise DomainError("invalid_feed", "a feed's name has 1-100 characters")
        if not 0 <= self.trust.max_hops <= MAX_HOPS:
            raise DomainError("invalid_feed", f"max_hops is 0 (anyone) to {MAX_HOPS}")
        if len(self.follows) > MAX_FOLLOWS:
            raise DomainError("invalid_feed", f"at most {MAX_FOLLOWS} follows")
        follows = []
        for follow in self.follows:
            if not follow.author.startswith("did:"):
                raise DomainError("invalid_feed", f"follow a DID, not {follow.author!r}")
            follows.append(Follow(follow.author, normalize_hashtags(list(follow.hashtags))))
        return FeedDefinition(name=self.name.strip(), follows=tuple(follows), mix=self.mix, trust=self.trust)


class FeedRules(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.member = ""
        self.name = "Home"
        self.follows: dict[str, tuple[str, ...]] = {}
        self.mix = Mix()
        self.trust = Trust()
        self.shared = False

    @classmethod
    def new(cls, community: str, member: str) -> FeedRules:
        rules = cls(feed_id(community, member))
        rules.member = member
        return rules

    def follow(self, author: str, hashtags: tuple[str, ...], statement: Document, now: int) -> None:
        if author == self.member:
            raise DomainError("cannot_follow_self", "your own posts are always yours to read")
        if author not in self.follows and len(self.follows) >= MAX_FOLLOWS:
            raise DomainError("too_many_follows", f"at most {MAX_FOLLOWS} follows")
        if self.follows.get(author) == hashtags:
            return  # already exactly so: nothing to record
        self.trigger(
            AuthorFollowed, now, follower=self.member, author=author, hashtags=hashtags, statement=statement
        )

    def unfollow(self, author: str, statement: Document, now: int) -> None:
        if author not in self.follows:
            raise DomainError("not_following", f"you do not follow {author}")
        self.trigger(AuthorUnfollowed, now, follower=self.member, author=author, statement=statement)

    def configure(
        self,
        definition: FeedDefinition,
        statement: Document,
        now: int,
        *,
        replace_follows: bool,
        share: bool | None = None,
    ) -> None:
        """Adopt `definition`: its mix, trust profile and name; its follows added (or replacing hers).
        `share` publishes the definition to the community's members (None: as it was)."""
        if replace_follows:
            for author in [a for a in self.follows if a not in {f.author for f in definition.follows}]:
                self.unfollow(author, statement, now)
        for follow in definition.follows:
            if follow.author != self.member:
                self.follow(follow.author, follow.hashtags, statement, now)
        self.trigger(
            FeedConfigured,
            now,
            member=self.member,
            name=definition.name,
            posts=definition.mix.posts,
            announcements=definition.mix.announcements,
            discussions=definition.mix.discussions,
            max_hops=definition.trust.max_hops,
            statement=statement,
            shared=self.shared if share is None else share,
        )

    def definition(self) -> FeedDefinition:
        follows = tuple(Follow(a, h) for a, h in sorted(self.follows.items()))
        return FeedDefinition(name=self.name, follows=follows, mix=self.mix, trust=self.trust)

    @applies(AuthorFollowed)
    def _followed(self, event: AuthorFollowed) -> None:
        self.member = event.follower
        self.follows[event.author] = event.hashtags

    @applies(AuthorUnfollowed)
    def _unfollowed(self, event: AuthorUnfollowed) -> None:
        self.follows.pop(event.author, None)

    @applies(FeedConfigured)
    def _configured(self, event: FeedConfigured) -> None:
        self.member, self.name = event.member, event.name
        self.mix = Mix(event.posts, event.announcements, event.discussions)
        self.trust = Trust(event.max_hops)
        self.shared = event.shared
