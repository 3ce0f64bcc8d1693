"""Blog use cases: publish, revise and withdraw signed posts; comment and reply; read (public)."""

from __future__ import annotations

from typing import Any

from services.social.application import token
from services.social.domain.commands import (
    CommentBody,
    CommentsQuery,
    PostQuery,
    PostsQuery,
    PublishBody,
    RemoveCommentBody,
    Signed,
    WithdrawBody,
)
from services.social.domain.post import Post, comment_id, post_id
from services.social.domain.post_document import PostContent, normalize_hashtag, read_post
from services.social.handlers.base import HandlerBase
from shared.application import NotFound
from shared.clock import moment
from shared.domain import DomainError
from shared.rendering import render
from shared.trust.credentials import verify_credential
from shared.trust.errors import TrustError
from shared.trust.resolver import default_resolver

MAX_PAGE = 200


class BlogHandlers(HandlerBase):
    def signed_post(self, community: str, post: str, author: str, document: dict[str, Any]) -> PostContent:
        """The post's content, once its author's signature (eddsa-jcs-2022) verified."""
        token(post, "post")
        try:
            verify_credential(document, default_resolver(), now=moment(self.clock()))
        except TrustError as exc:
            raise DomainError("invalid_signature", f"the post document does not verify: {exc}") from exc
        return read_post(document, community=community, post=post, author=author)

    def load_post(self, community: str, post: str) -> Post:
        token(post, "post")
        found = self.app.find(Post, post_id(community, post))
        if found is None:
            raise NotFound("unknown_post", f"there is no post {post} in {community}")
        return found

    async def publish_post(self, command: Signed) -> dict[str, Any]:
        statement, body = await self.acting(command, "publish_post", PublishBody)
        content = self.signed_post(statement.community, body.post, statement.actor, body.document)
        if await self.run(self.app.find, Post, post_id(statement.community, body.post)) is not None:
            raise DomainError("post_exists", f"a post {body.post} already exists; revise it instead")
        post = Post.publish(statement.community, content, body.document, statement.document, self.clock())
        await self.save(post)
        return self.post_view(post)

    async def revise_post(self, command: Signed) -> dict[str, Any]:
        statement, body = await self.acting(command, "revise_post", PublishBody)
        content = self.signed_post(statement.community, body.post, statement.actor, body.document)
        post = await self.run(self.load_post, statement.community, body.post)
        post.revise(statement.actor, content, body.document, statement.document, self.clock())
        await self.save(post)
        return self.post_view(post)

    async def withdraw_post(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "withdraw_post")
        body = self.body(statement, WithdrawBody)
        post = await self.run(self.load_post, statement.community, body.post)
        post.withdraw(statement.actor, body.reason[:2000], statement.document, self.clock())
        await self.save(post)
        return {"post": body.post, "withdrawn": True}

    async def comment(self, command: Signed) -> dict[str, Any]:
        statement, body = await self.acting(command, "comment", CommentBody)
        post = await self.run(self.load_post, statement.community, body.post)
        ident = comment_id(statement.actor, statement.nonce)
        post.comment(ident, statement.actor, body.text, body.reply_to, statement.document, self.clock())
        await self.save(post)
        return self.comment_view(post, ident)

    async def remove_comment(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "remove_comment")
        body = self.body(statement, RemoveCommentBody)
        post = await self.run(self.load_post, statement.community, body.post)
        post.remove_comment(statement.actor, body.comment, statement.document, self.clock())
        await self.save(post)
        return {"post": body.post, "comment": body.comment, "removed": True}

    # -- reads ------------------------------------------------------------------------------------

    async def list_posts(self, query: PostsQuery) -> dict[str, Any]:
        token(query.community, "community")
        if not 0 < query.limit <= MAX_PAGE:
            raise DomainError("invalid_request", f"limit is 1-{MAX_PAGE}")
        hashtag = normalize_hashtag(query.hashtag) if query.hashtag else None
        posts = await self.query(
            lambda: self.posts.listing(
                query.community, author=query.author, hashtag=hashtag, limit=query.limit, before=query.before
            )
        )
        return {"community": query.community, "posts": posts, "next": posts[-1]["at"] if posts else None}

    async def get_post(self, query: PostQuery) -> dict[str, Any]:
        """A post with its author's signed document, for anyone (public visitors included)."""
        token(query.community, "community")
        post = await self.run(self.load_post, query.community, query.post)
        post.require_visible()
        return self.post_view(post)

    async def list_comments(self, query: CommentsQuery) -> dict[str, Any]:
        await self.member(query.community, query.member)
        post = await self.run(self.load_post, query.community, query.post)
        post.require_visible()
        comments = sorted(post.comments.values(), key=lambda c: (c.at_ns, c.comment))
        return {"post": query.post, "comments": [self.comment_view(post, c.comment) for c in comments]}

    @staticmethod
    def post_view(post: Post) -> dict[str, Any]:
        return {
            "post": post.post,
            "author": post.author,
            "headline": post.headline,
            "body": post.body,
            "html": render(post.body),
            "hashtags": list(post.hashtags),
            "at": post.published_ns,
            "revised_at": post.revised_ns or None,
            "revisions": post.revisions,
            "comments": len(post.comments),
            "document": post.document,
        }

    @staticmethod
    def comment_view(post: Post, ident: str) -> dict[str, Any]:
        comment = post.comments[ident]
        return {
            "comment": comment.comment,
            "by": comment.by,
            "by_author": comment.by == post.author,
            "text": comment.text,
            "html": render(comment.text),
            "reply_to": comment.reply_to or None,
            "at": comment.at_ns,
            "statement": comment.statement,  # her signed words: verifiable like any statement
        }
