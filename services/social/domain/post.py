"""A blog post (First Person Page): published, revised or withdrawn by its author; comments on it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from services.social.domain.events import (
    CommentAdded,
    CommentRemoved,
    PostPublished,
    PostRevised,
    PostWithdrawn,
)
from services.social.domain.post_document import PostContent
from shared.domain import Aggregate, DomainError, applies

Document = dict[str, Any]
MAX_COMMENT = 10_000


class PostGone(DomainError):
    """The author withdrew the post: readers get 410, not a stale copy."""

    status = 410


def post_id(community: str, post: str) -> str:
    return f"{community}.post.{post}"


def comment_id(actor: str, nonce: str) -> str:
    """A comment's id, from the statement that made it (unique: nonces are claimed once)."""
    return hashlib.sha256(f"{actor}\n{nonce}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Comment:
    comment: str
    by: str
    text: str
    reply_to: str
    at_ns: int
    statement: Document


class Post(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.post = ""
        self.author = ""
        self.headline = ""
        self.body = ""
        self.hashtags: tuple[str, ...] = ()
        self.document: Document = {}
        self.withdrawn = False
        self.published_ns = 0
        self.revised_ns = 0
        self.revisions = 0
        self.comments: dict[str, Comment] = {}

    @classmethod
    def publish(
        cls, community: str, content: PostContent, document: Document, statement: Document, now: int
    ) -> Post:
        post = cls(post_id(community, content.post))
        post.trigger(
            PostPublished,
            now,
            post=content.post,
            author=content.author,
            headline=content.headline,
            body=content.body,
            hashtags=content.hashtags,
            document=document,
            statement=statement,
        )
        return post

    def require_visible(self) -> None:
        if self.withdrawn:
            raise PostGone("post_withdrawn", "the author has withdrawn this post")

    def revise(
        self, actor: str, content: PostContent, document: Document, statement: Document, now: int
    ) -> None:
        self._require_author(actor)
        self.require_visible()
        if (content.headline, content.body, content.hashtags) == (self.headline, self.body, self.hashtags):
            raise DomainError("unchanged", "the revision has the post's headline, text and hashtags")
        self.trigger(
            PostRevised,
            now,
            headline=content.headline,
            body=content.body,
            hashtags=content.hashtags,
            document=document,
            statement=statement,
        )

    def withdraw(self, actor: str, reason: str, statement: Document, now: int) -> None:
        self._require_author(actor)
        self.require_visible()
        self.trigger(PostWithdrawn, now, reason=reason, statement=statement)

    def comment(self, comment: str, by: str, text: str, reply_to: str, statement: Document, now: int) -> None:
        self.require_visible()
        if not text.strip() or len(text) > MAX_COMMENT:
            raise DomainError("invalid_comment", f"a comment has 1-{MAX_COMMENT} characters")
        if reply_to and reply_to not in self.comments:
            raise DomainError("unknown_comment", f"there is no comment {reply_to} on this post")
        if comment in self.comments:
            raise DomainError("conflict", "this comment is already recorded")
        self.trigger(
            CommentAdded, now, comment=comment, by=by, text=text, reply_to=reply_to, statement=statement
        )

    def remove_comment(self, actor: str, comment: str, statement: Document, now: int) -> None:
        found = self.comments.get(comment)
        if found is None:
            raise DomainError("unknown_comment", f"there is no comment {comment} on this post")
        if actor not in (found.by, self.author):
            raise DomainError("not_your_comment", "only the commenter or the post's author removes a comment")
        self.trigger(CommentRemoved, now, comment=comment, by=actor, statement=statement)

    def _require_author(self, actor: str) -> None:
        if actor != self.author:
            raise DomainError("not_the_author", "only the post's author may change it")

    @applies(PostPublished)
    def _published(self, event: PostPublished) -> None:
        self.post, self.author = event.post, event.author
        self.headline, self.body, self.hashtags = event.headline, event.body, event.hashtags
        self.document = event.document
        self.published_ns = event.occurred_ns

    @applies(PostRevised)
    def _revised(self, event: PostRevised) -> None:
        self.headline, self.body, self.hashtags = event.headline, event.body, event.hashtags
        self.document = event.document
        self.revised_ns = event.occurred_ns
        self.revisions += 1

    @applies(PostWithdrawn)
    def _withdrawn(self, event: PostWithdrawn) -> None:
        self.withdrawn = True

    @applies(CommentAdded)
    def _commented(self, event: CommentAdded) -> None:
        self.comments[event.comment] = Comment(
            event.comment, event.by, event.text, event.reply_to, event.occurred_ns, event.statement
        )

    @applies(CommentRemoved)
    def _comment_removed(self, event: CommentRemoved) -> None:
        self.comments.pop(event.comment, None)
