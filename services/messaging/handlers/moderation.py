"""Moderation: flag, hide, remove, restore, ban from a space; a readable log; appeals decided by another."""

from __future__ import annotations

from typing import Any

from services.messaging.domain.appeal import Appeal, appeal_id
from services.messaging.domain.category import Category
from services.messaging.domain.commands import AppealBody, BanBody, DecideBody, ModerateBody, Query, Signed
from services.messaging.domain.content import check_id, check_reason
from services.messaging.domain.conversation import Conversation, conversation_id
from services.messaging.domain.errors import Forbidden, Invalid, Missing
from services.messaging.domain.message import ACTIONS, ChatMessage, message_id
from services.messaging.domain.post import Post, post_id
from services.messaging.handlers.base import Act, new_id
from services.messaging.handlers.forums import ForumHandlers

Space = Category | Conversation


EXCERPT = 280  # characters of a flagged post or message shown in the queue


class ModerationHandlers(ForumHandlers):
    async def moderate(self, command: Signed) -> dict[str, Any]:
        """`flag` by any reader; `hide`, `remove`, `restore` by a moderator; always with a reason."""
        act = await self.act(command, "moderate")
        body = self.body(act, ModerateBody)
        if body.action not in ACTIONS:
            raise Invalid("invalid_request", f"action is one of {', '.join(ACTIONS)}")
        if body.action != "flag":
            self.require_moderator(act)
        reason = check_reason(body.reason)
        target = await self._target(act, body.kind, body.target, flag=body.action == "flag")
        target.moderate(action=body.action, by=act.did, reason=reason, statement=act.document, now=act.now)
        await self.save(target)
        notice = {"kind": "moderation", "action": body.action, "target": body.target}
        await self.notify(act.community, notice | ({"moderators": True} if body.action == "flag" else {}))
        return {"target": body.target, "action": body.action, "state": target.state}

    async def _target(self, act: Act, kind: str, ident: str, *, flag: bool) -> Post | ChatMessage:
        if kind == "post":
            post = await self.find(
                Post,
                post_id(act.community, check_id(ident, "post")),
                "unknown_post",
                "such post",
            )
            if post.state != "visible" and not act.is_moderator:
                raise Missing("unknown_post", "there is no such post")
            await self.readable_category(act, post.category, write=False)
            return post
        if kind == "message":
            message = await self.find(
                ChatMessage,
                message_id(act.community, check_id(ident, "message")),
                "unknown_message",
                "such message",
            )
            if flag or not act.is_moderator:
                await self.readable_conversation(act, message.conversation)
            return message
        raise Invalid("invalid_request", "kind is post or message")

    async def ban(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "ban")
        self.require_moderator(act)
        body = self.body(act, BanBody)
        reason = check_reason(body.reason)
        if self.members.member(act.community, body.member) is None:
            raise Invalid("unknown_member", f"{body.member} is not known in {act.community}")
        if body.member == act.did:
            raise Invalid("invalid_request", "a moderator does not ban herself")
        space = await self._space(act.community, body.space)
        if body.ban:
            space.ban(member=body.member, reason=reason, by=act.did, statement=act.document, now=act.now)
        else:
            space.unban(member=body.member, reason=reason, by=act.did, statement=act.document, now=act.now)
        await self.save(space)
        await self.notify(
            act.community,
            {
                "kind": "moderation",
                "action": "ban" if body.ban else "unban",
                "space": body.space,
                "members": [body.member],
            },
        )
        return {"space": body.space, "member": body.member, "banned": body.ban}

    async def _space(self, community: str, space: str) -> Space:
        kind, _, ident = space.partition(":")
        if kind == "category":
            return await self.load_category(community, check_id(ident, "category"))
        if kind == "conversation":
            conversation = await self.find(
                Conversation,
                conversation_id(community, check_id(ident, "conversation")),
                "unknown_conversation",
                "such conversation",
            )
            if conversation.kind == "direct":
                raise Invalid(
                    "invalid_request", "nobody is banned from a direct conversation; she may leave it"
                )
            return conversation
        raise Invalid("invalid_request", "a space is category:<id> or conversation:<id>")

    # -- appeals -------------------------------------------------------------------------------

    async def file_appeal(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "file_appeal")
        body = self.body(act, AppealBody)
        reason = check_reason(body.reason)
        if body.target_kind == "ban":
            space = await self._space(act.community, body.target)
            if act.did not in space.banned:
                raise Invalid("nothing_to_appeal", "you are not banned from this space")
        elif body.target_kind in ("post", "message"):
            target = await self._own_moderated(act, body.target_kind, body.target)
            if target.state == "visible":
                raise Invalid("nothing_to_appeal", "this is visible: there is no decision to appeal")
        else:
            raise Invalid("invalid_request", "an appeal is against a post, message or ban")
        appeal = Appeal(appeal_id(act.community, new_id()))
        appeal.file(
            target_kind=body.target_kind,
            target=body.target,
            by=act.did,
            reason=reason,
            statement=act.document,
            now=act.now,
        )
        await self.save(appeal)
        await self.notify(act.community, {"kind": "appeal", "appeal": appeal.appeal, "moderators": True})
        return {"appeal": appeal.appeal, "status": "open"}

    async def _own_moderated(self, act: Act, kind: str, ident: str) -> Post | ChatMessage:
        target: Post | ChatMessage
        if kind == "post":
            target = await self.find(
                Post,
                post_id(act.community, check_id(ident, "post")),
                "unknown_post",
                "such post",
            )
        else:
            target = await self.find(
                ChatMessage,
                message_id(act.community, check_id(ident, "message")),
                "unknown_message",
                "such message",
            )
        if target.by != act.did:
            raise Forbidden("not_yours", "a member appeals decisions about her own posts and messages")
        return target

    async def decide_appeal(self, command: Signed) -> dict[str, Any]:
        """Upheld, or overturned: the post or message is restored, or the ban lifted, in the same commit."""
        act = await self.act(command, "decide_appeal")
        self.require_moderator(act)
        body = self.body(act, DecideBody)
        reason = check_reason(body.reason)
        appeal = await self.find(
            Appeal,
            appeal_id(act.community, check_id(body.appeal, "appeal")),
            "unknown_appeal",
            "such appeal",
        )
        undo: Post | ChatMessage | Space | None = None
        if appeal.target_kind == "ban":
            undo = await self._space(act.community, appeal.target)
        else:
            undo = await self._target_any(act.community, appeal.target_kind, appeal.target)
            if undo.moderated_by == act.did:
                raise Forbidden("own_decision", "another moderator decides an appeal against your decision")
        appeal.decide(decision=body.decision, by=act.did, reason=reason, statement=act.document, now=act.now)
        note = f"appeal {appeal.appeal} overturned: {reason}"
        if body.decision == "overturned":
            if isinstance(undo, Category | Conversation):
                if appeal.by in undo.banned:
                    undo.unban(member=appeal.by, reason=note, by=act.did, statement=act.document, now=act.now)
            elif undo.state != "visible":
                undo.moderate(action="restore", by=act.did, reason=note, statement=act.document, now=act.now)
        await self.save(appeal, undo)
        await self.notify(act.community, {"kind": "appeal", "appeal": appeal.appeal, "members": [appeal.by]})
        return {"appeal": appeal.appeal, "decision": appeal.decision}

    async def _target_any(self, community: str, kind: str, ident: str) -> Post | ChatMessage:
        if kind == "post":
            return await self.find(Post, post_id(community, ident), "unknown_post", "such post")
        return await self.find(ChatMessage, message_id(community, ident), "unknown_message", "message")

    # -- reading -------------------------------------------------------------------------------

    async def moderation_log(self, query: Query) -> dict[str, Any]:
        """Every moderation decision, with the moderator, reason and signed statement (no content)."""
        await self.reader(query.community, query.member)
        entries = await self.read(lambda: list(self.moderation.log.get(query.community, [])))
        return {"entries": list(reversed(entries))[: max(1, min(query.limit, 500))]}

    async def moderation_queue(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)
        if not {"admin", "moderator"} & set(record.roles):
            raise Forbidden("not_a_moderator", "the flag queue is for moderators")

        def read() -> dict[str, Any]:
            appeals = self.moderation.appeals.get(query.community, {}).values()
            return {
                "flags": [
                    self._flagged(query.community, flag)
                    for flag in self.moderation.flags.get(query.community, {}).values()
                ],
                "appeals": [a for a in appeals if not a["decision"]],
            }

        return await self.read(read)

    def _flagged(self, community: str, flag: dict[str, Any]) -> dict[str, Any]:
        """A flag with what the moderator decides on: whose it is, where, its state and its words
        (none for a sealed message: the server cannot read it either)."""
        out = {**flag, "author": "", "state": "", "excerpt": "", "space_name": "", "sealed": False}
        if flag["kind"] == "post":
            post = self.forum.posts.get(community, {}).get(flag["target"])
            if post is not None:
                category = self.forum.categories.get(community, {}).get(post.category)
                out |= {
                    "author": post.by,
                    "state": post.state,
                    "excerpt": post.body[:EXCERPT],
                    "thread": post.thread,
                    "space_name": category.name if category else post.category,
                }
        elif flag["kind"] == "message":
            message = self.chat.messages.get(community, {}).get(flag["target"])
            if message is not None:
                row = self.chat.conversations.get(community, {}).get(message.conversation)
                out |= {
                    "author": message.by,
                    "state": message.state,
                    "excerpt": message.body[:EXCERPT],
                    "sealed": bool(message.sealed),
                    "conversation": message.conversation,
                    "space_name": (row.name or row.kind) if row else message.conversation,
                }
        return out

    async def appeals_of(self, query: Query) -> dict[str, Any]:
        await self.reader(query.community, query.member)
        appeals = await self.read(lambda: list(self.moderation.appeals.get(query.community, {}).values()))
        return {"appeals": [a for a in appeals if a["by"] == query.member]}
