"""Published posts per community: listing by author and hashtag, newest first (public read model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.social.domain.events import (
    CommentAdded,
    CommentRemoved,
    PostPublished,
    PostRevised,
    PostWithdrawn,
)
from shared.domain import Event

EXCERPT = 280


@dataclass
class PostEntry:
    post: str
    author: str
    headline: str
    body: str
    hashtags: tuple[str, ...]
    at: int
    revised_at: int = 0
    withdrawn: bool = False
    comments: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        excerpt = self.body if len(self.body) <= EXCERPT else self.body[:EXCERPT].rstrip() + "…"
        return {
            "post": self.post,
            "author": self.author,
            "headline": self.headline,
            "excerpt": excerpt,
            "hashtags": list(self.hashtags),
            "at": self.at,
            "revised_at": self.revised_at or None,
            "comments": len(self.comments),
        }


class PostsView:
    def __init__(self) -> None:
        self.position = 0
        self._posts: dict[str, dict[str, PostEntry]] = {}

    def apply(self, event: Event) -> None:
        community, kind, post = event.originator_id.split(".", 2)
        if kind != "post":
            return
        posts = self._posts.setdefault(community, {})
        if isinstance(event, PostPublished):
            posts[post] = PostEntry(
                post, event.author, event.headline, event.body, event.hashtags, event.occurred_ns
            )
            return
        entry = posts.get(post)
        if entry is None:
            return
        if isinstance(event, PostRevised):
            entry.headline, entry.body, entry.hashtags = event.headline, event.body, event.hashtags
            entry.revised_at = event.occurred_ns
        elif isinstance(event, PostWithdrawn):
            entry.withdrawn = True
        elif isinstance(event, CommentAdded):
            entry.comments.add(event.comment)
        elif isinstance(event, CommentRemoved):
            entry.comments.discard(event.comment)

    def visible(self, community: str) -> list[PostEntry]:
        """Every visible post of a community, newest first."""
        posts = (p for p in self._posts.get(community, {}).values() if not p.withdrawn)
        return sorted(posts, key=lambda p: (p.at, p.post), reverse=True)

    def listing(
        self, community: str, *, author: str | None, hashtag: str | None, limit: int, before: int | None
    ) -> list[dict[str, Any]]:
        out = []
        for entry in self.visible(community):
            if author is not None and entry.author != author:
                continue
            if hashtag is not None and hashtag not in entry.hashtags:
                continue
            if before is not None and entry.at >= before:
                continue
            out.append(entry.summary())
            if len(out) >= limit:
                break
        return out
