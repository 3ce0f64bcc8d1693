"""Forums: categories with per-role permissions, threads, replies, quotes, mentions, reactions, edits."""

from __future__ import annotations

from typing import Any

from services.messaging.domain.category import Category, category_id
from services.messaging.domain.commands import (
    CategoryBody,
    EditBody,
    LevelBody,
    MarkerBody,
    PinBody,
    ReactBody,
    ReplyBody,
    ResolveBody,
    Signed,
    ThreadBody,
)
from services.messaging.domain.content import (
    MAX_MENTIONS,
    check_body,
    check_dids,
    check_id,
    check_name,
    check_reaction,
    check_title,
)
from services.messaging.domain.errors import Forbidden, Invalid, Missing
from services.messaging.domain.events import Quote
from services.messaging.domain.message import ChatMessage, message_id
from services.messaging.domain.participant import Participant, participant_id
from services.messaging.domain.post import Post, post_id
from services.messaging.domain.thread import Thread, thread_id
from services.messaging.handlers.base import Act, new_id
from services.messaging.handlers.chat import ChatHandlers
from services.messaging.projections.inbox import MAIL_SCOPES
from shared.domain import DomainError

MAX_QUOTE = 1000
MAX_ROLES = 20


class ForumHandlers(ChatHandlers):
    # -- categories ------------------------------------------------------------------------------

    async def create_category(self, command: Signed) -> dict[str, Any]:
        return await self._category(command, "create_category", create=True)

    async def configure_category(self, command: Signed) -> dict[str, Any]:
        return await self._category(command, "configure_category", create=False)

    async def _category(self, command: Signed, action: str, *, create: bool) -> dict[str, Any]:
        act = await self.act(command, action)
        self.require_admin(act)
        body = self.body(act, CategoryBody)
        ident = check_id(body.category, "category")
        if create:
            category = await self.load_or_new(Category, category_id(act.community, ident))
        else:
            category = await self.load_category(act.community, ident)
        category.configure(
            name=check_name(body.name, "category name"),
            description=body.description.strip()[:2000],
            read_roles=_roles(body.read_roles),
            post_roles=_roles(body.post_roles),
            by=act.did,
            statement=act.document,
            now=act.now,
            create=create,
        )
        await self.save(category)
        await self.notify(act.community, {"kind": "category", "category": ident})
        return {
            "category": ident,
            "name": category.name,
            "read_roles": list(category.read_roles),
            "post_roles": list(category.post_roles),
        }

    async def load_category(self, community: str, ident: str) -> Category:
        return await self.find(Category, category_id(community, ident), "unknown_category", "such category")

    async def readable_category(self, act: Act, ident: str, *, write: bool) -> Category:
        """The category, when the actor may read it (and write, if asked); an unreadable one is unknown."""
        category = await self.load_category(act.community, check_id(ident, "category"))
        if not category.may_read(act.roles) and not act.is_moderator:
            raise Missing("unknown_category", "there is no such category")
        category.require_not_banned(act.did)
        if write and not category.may_post(act.roles):
            raise Forbidden(
                "not_allowed_to_post", f"posting in {category.name} needs one of {category.post_roles}"
            )
        return category

    def mentions(self, act: Act, category: Category, dids: tuple[str, ...]) -> tuple[str, ...]:
        mentioned = check_dids(dids, "mentions", MAX_MENTIONS)
        for did in mentioned:
            record = self.require_member(act.community, did, act.now, "mention")
            if not category.may_read(record.roles):
                raise Invalid(
                    "unknown_mention", f"{did} cannot read this category, so cannot be mentioned here"
                )
        return mentioned

    # -- threads and posts -----------------------------------------------------------------------

    async def start_thread(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "start_thread")
        body = self.body(act, ThreadBody)
        category = await self.readable_category(act, body.category, write=True)
        title, text = check_title(body.title), check_body(body.body)
        thread_ident, post_ident = new_id(body.thread), new_id()
        thread = await self.load_or_new(Thread, thread_id(act.community, thread_ident))
        thread.start(category=category.category, title=title, post=post_ident, by=act.did, now=act.now)
        post = Post(post_id(act.community, post_ident))
        post.create(
            thread=thread_ident,
            category=category.category,
            title=title,
            body=text,
            by=act.did,
            quote=None,
            mentions=self.mentions(act, category, body.mentions),
            statement=act.document,
            now=act.now,
        )
        await self.save(thread, post)
        await self._posted(act, post, category, new=True)
        return {"thread": thread_ident, "post": post_ident, "category": category.category, "title": title}

    async def reply(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "reply")
        body = self.body(act, ReplyBody)
        thread = await self.load_thread(act.community, body.thread)
        category = await self.readable_category(act, thread.category, write=True)
        text = check_body(body.body)
        quote = None
        if body.quote is not None:
            quoted = await self.load_post(act.community, body.quote.post)
            excerpt = body.quote.excerpt.strip()
            if quoted.category != category.category:
                quoted_in = await self.load_category(act.community, quoted.category)
                if not quoted_in.may_read(act.roles):
                    raise Missing("unknown_post", "there is no such post")
            if not excerpt or len(excerpt) > MAX_QUOTE or excerpt not in quoted.body:
                raise Invalid(
                    "invalid_quote", "a quote is an excerpt (at most 1000 characters) of the post's text"
                )
            quote = Quote(post=quoted.post, excerpt=excerpt, by=quoted.by)
        post = await self.load_or_new(Post, post_id(act.community, new_id(body.post)))
        post.create(
            thread=thread.thread,
            category=category.category,
            title="",
            body=text,
            by=act.did,
            quote=quote,
            mentions=self.mentions(act, category, body.mentions),
            statement=act.document,
            now=act.now,
        )
        await self.save(post)
        await self._posted(act, post, category, new=True)
        return {"thread": thread.thread, "post": post.post}

    async def _posted(self, act: Act, post: Post, category: Category, *, new: bool = False) -> None:
        if new and self.notices is not None:
            # Who this post notifies, stored for mail (ids and reasons only, never the text).
            def notified() -> dict[str, str]:
                row = self.forum.posts.get(act.community, {}).get(post.post)
                return {} if row is None else self.forum.notified(act.community, row)

            reasons = await self.read(notified)
            if reasons:
                await self.notices.notify(
                    act.community,
                    {"kind": "forum_post", "thread": post.thread, "post": post.post,
                     "category": category.category, "by": act.did, "reasons": reasons,
                     "recipients": sorted(reasons)},
                )  # fmt: skip
        await self.notify(
            act.community,
            {
                "kind": "post",
                "category": category.category,
                "thread": post.thread,
                "post": post.post,
                "read_roles": list(category.read_roles),
                "mentions": list(post.mentions),
            },
        )

    async def edit_post(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "edit_post")
        body = self.body(act, EditBody)
        post = await self.load_post(act.community, body.post)
        category = await self.readable_category(act, post.category, write=True)
        title = check_title(body.title) if body.title else ""
        post.edit(title=title, body=check_body(body.body), by=act.did, statement=act.document, now=act.now)
        await self.save(post)
        await self._posted(act, post, category)
        return {"post": post.post, "versions": len(post.versions)}

    async def react(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "react")
        body = self.body(act, ReactBody)
        reaction = check_reaction(body.reaction)
        if body.kind == "post":
            post = await self.load_post(act.community, body.target)
            await self.readable_category(act, post.category, write=False)
            post.react(reaction=reaction, by=act.did, add=body.add, statement=act.document, now=act.now)
            await self.save(post)
            reactions = post.reactions
            notice = {"kind": "reaction", "post": post.post, "thread": post.thread, "category": post.category}
        elif body.kind == "message":
            message = await self.find(
                ChatMessage,
                message_id(act.community, check_id(body.target, "message")),
                "unknown_message",
                "such message",
            )
            conversation = await self.readable_conversation(act, message.conversation)
            message.react(reaction=reaction, by=act.did, add=body.add, statement=act.document, now=act.now)
            await self.save(message)
            reactions = message.reactions
            notice = {
                "kind": "reaction",
                "message": message.message,
                "conversation": conversation.conversation,
            }
        else:
            raise Invalid("invalid_request", "kind is post or message")
        await self.notify(act.community, notice)
        return {"target": body.target, "reactions": {r: sorted(who) for r, who in reactions.items() if who}}

    async def pin_thread(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "pin_thread")
        self.require_moderator(act)
        body = self.body(act, PinBody)
        thread = await self.load_thread(act.community, body.thread)
        thread.pin(pinned=body.pinned, by=act.did, statement=act.document, now=act.now)
        await self.save(thread)
        return {"thread": thread.thread, "pinned": thread.pinned}

    async def resolve_thread(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "resolve_thread")
        body = self.body(act, ResolveBody)
        thread = await self.load_thread(act.community, body.thread)
        await self.readable_category(act, thread.category, write=False)
        if act.did != thread.by and not act.is_moderator:
            raise Forbidden("not_your_thread", "the thread's author or a moderator marks it resolved")
        if body.answer:
            answer = await self.load_post(act.community, body.answer)
            if answer.thread != thread.thread:
                raise Invalid("invalid_answer", "the answer is a post of this thread")
        thread.resolve(
            resolved=body.resolved,
            answer=body.answer if body.resolved else "",
            by=act.did,
            statement=act.document,
            now=act.now,
        )
        await self.save(thread)
        return {"thread": thread.thread, "resolved": thread.resolved, "answer": thread.answer}

    async def load_thread(self, community: str, ident: str) -> Thread:
        return await self.find(
            Thread,
            thread_id(community, check_id(ident, "thread")),
            "unknown_thread",
            "such thread",
        )

    async def load_post(self, community: str, ident: str) -> Post:
        post = await self.find(Post, post_id(community, check_id(ident, "post")), "unknown_post", "such post")
        post.require_visible()
        return post

    # -- per-member settings ---------------------------------------------------------------------

    async def set_notification_level(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "set_notification_level")
        body = self.body(act, LevelBody)
        await self.require_scope(act, body.scope)
        participant = await self.load_or_new(Participant, participant_id(act.community, act.did))
        participant.set_level(act.did, body.scope, body.level, act.document, act.now)
        await self.save(participant)
        return {"scope": body.scope, "level": body.level}

    async def mark_read(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "mark_read")
        body = self.body(act, MarkerBody)
        if not body.scope.startswith(("thread:", "conversation:")):
            raise Invalid("invalid_request", "read markers are per thread or conversation")
        await self.require_scope(act, body.scope)
        participant = await self.load_or_new(Participant, participant_id(act.community, act.did))
        if participant.set_marker(act.did, body.scope, body.position, act.document, act.now):
            await self.save(participant)
        return {"scope": body.scope, "position": participant.markers.get(body.scope, 0)}

    async def require_scope(self, act: Act, scope: str) -> None:
        kind, _, ident = scope.partition(":")
        if kind == "category":
            await self.readable_category(act, ident, write=False)
        elif kind == "thread":
            thread = await self.load_thread(act.community, ident)
            await self.readable_category(act, thread.category, write=False)
        elif kind == "conversation":
            await self.readable_conversation(act, ident)
        elif scope not in MAIL_SCOPES:  # which poll notices, forum posts and chats she gets by email
            raise Invalid(
                "invalid_request",
                "a scope is category:<id>, thread:<id>, conversation:<id>, decide, discuss or chat",
            )


def _roles(roles: tuple[str, ...]) -> tuple[str, ...]:
    if len(roles) > MAX_ROLES:
        raise Invalid("invalid_request", f"at most {MAX_ROLES} roles")
    try:
        return tuple(sorted({check_name(r, "role") for r in roles}))
    except DomainError as exc:
        raise Invalid("invalid_request", exc.message) from exc
