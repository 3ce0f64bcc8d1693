"""What members read: categories, threads, posts and their history, search, notifications, chat, unread."""

from __future__ import annotations

from typing import Any

from services.messaging.adapters.membership_feed import MemberRecord
from services.messaging.domain.category import roles_allow
from services.messaging.domain.commands import Query
from services.messaging.domain.content import check_id
from services.messaging.domain.errors import Missing
from services.messaging.domain.post import Post, post_id
from services.messaging.handlers.base import MODERATOR_ROLES, HandlerBase
from services.messaging.projections.chat import ConversationRow, MessageRow
from services.messaging.projections.forum import CategoryRow, PostRow, ThreadRow
from shared.rendering import render

SNIPPET = 240


def _moderator(record: MemberRecord) -> bool:
    return bool(MODERATOR_ROLES & set(record.roles))


class ReadHandlers(HandlerBase):
    def may_read(self, record: MemberRecord, row: CategoryRow | None) -> bool:
        if row is None or record.did in row.banned:
            return False
        return _moderator(record) or roles_allow(row.read_roles, record.roles)

    def may_read_conversation(self, record: MemberRecord, row: ConversationRow | None) -> bool:
        if row is None or record.did in row.banned:
            return False
        if row.kind == "channel":
            return _moderator(record) or roles_allow(row.read_roles, record.roles)
        return record.did in row.members

    async def whoami(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)
        return {
            "member": record.did,
            "roles": list(record.roles),
            "type": record.membership_type,
            "tags": list(record.tags),
            "moderator": _moderator(record),
        }

    async def categories(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)

        def read() -> list[dict[str, Any]]:
            threads = self.forum.threads.get(query.community, {}).values()
            return [
                {
                    "category": c.category,
                    "name": c.name,
                    "description": c.description,
                    "read_roles": list(c.read_roles),
                    "post_roles": list(c.post_roles),
                    "may_post": roles_allow(c.read_roles, record.roles)
                    and roles_allow(c.post_roles, record.roles),
                    "threads": sum(1 for t in threads if t.category == c.category),
                    "level": self.forum.level(query.community, record.did, f"category:{c.category}"),
                }
                for c in self.forum.categories.get(query.community, {}).values()
                if self.may_read(record, c)
            ]

        return {"categories": await self.read(read)}

    def _thread_summary(self, community: str, member: str, thread: ThreadRow) -> dict[str, Any]:
        return {
            "thread": thread.thread,
            "category": thread.category,
            "title": thread.title,
            "by": thread.by,
            "posts": len(thread.posts),
            "pinned": thread.pinned,
            "resolved": thread.resolved,
            "answer": thread.answer,
            "last_ns": thread.last_ns,
            "unread": self.forum.unread(community, member, thread),
        }

    async def threads(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)

        def read() -> list[dict[str, Any]]:
            category = self.forum.categories.get(query.community, {}).get(query.category)
            if not self.may_read(record, category):
                raise Missing("unknown_category", "there is no such category")
            posts = self.forum.posts.get(query.community, {})
            rows = [
                t
                for t in self.forum.threads.get(query.community, {}).values()
                if t.category == query.category
                and t.posts
                and (posts[t.posts[0]].state == "visible" or _moderator(record))
            ]
            rows.sort(key=lambda t: (not t.pinned, -t.last_ns))
            return [self._thread_summary(query.community, record.did, t) for t in rows[: max(1, query.limit)]]

        return {"category": query.category, "threads": await self.read(read)}

    def _post_view(self, record: MemberRecord, post: PostRow) -> dict[str, Any]:
        if post.state == "removed" or (post.state == "hidden" and not _moderator(record)):
            return {"post": post.post, "state": post.state, "by": post.by}
        return {
            "post": post.post,
            "state": post.state,
            "by": post.by,
            "title": post.title,
            "body": post.body,
            "html": render(post.body),
            "created_ns": post.created_ns,
            "edited": post.edits > 0,
            "quote": post.quote,
            "mentions": list(post.mentions),
            "reactions": {r: len(w) for r, w in post.reactions.items() if w},
            "mine": sorted(r for r, w in post.reactions.items() if record.did in w),
        }

    async def thread(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)

        def read() -> dict[str, Any]:
            thread = self.forum.threads.get(query.community, {}).get(query.thread)
            category = None if thread is None else self.forum.categories[query.community].get(thread.category)
            posts = self.forum.posts.get(query.community, {})
            if thread is None or not self.may_read(record, category):
                raise Missing("unknown_thread", "there is no such thread")
            opening = posts[thread.posts[0]]
            if opening.state != "visible" and not _moderator(record):
                raise Missing("unknown_thread", "there is no such thread")
            views = [self._post_view(record, posts[p]) for p in thread.posts]
            if not _moderator(record):
                views = [v for v in views if v["state"] == "visible"]
            scopes = (f"thread:{thread.thread}", f"category:{thread.category}")
            return self._thread_summary(query.community, record.did, thread) | {
                "posts": views,
                # Where a read marker goes to mark every post read (hidden ones count too).
                "position": len(thread.posts),
                # Her notification level here: the thread's own, else the category's, else normal.
                "level": self.forum.level(query.community, record.did, *scopes),
            }

        return await self.read(read)

    async def post_history(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)
        post = await self.find(
            Post,
            post_id(query.community, check_id(query.post, "post")),
            "unknown_post",
            "such post",
        )
        category = await self.read(lambda: self.forum.categories.get(query.community, {}).get(post.category))
        if post.state != "visible" or not self.may_read(record, category):
            raise Missing("unknown_post", "there is no such post")
        return {
            "post": post.post,
            "versions": [
                {"at_ns": v.at_ns, "title": v.title, "body": v.body, "html": render(v.body), "by": v.by}
                for v in post.versions
            ],
        }

    async def search(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)

        def read() -> list[dict[str, Any]]:
            categories = self.forum.categories.get(query.community, {})
            threads = self.forum.threads.get(query.community, {})
            found = []
            for post in self.forum.search(query.community, query.text):
                if post.state != "visible" or not self.may_read(record, categories.get(post.category)):
                    continue
                if query.category and post.category != query.category:
                    continue
                thread = threads.get(post.thread)
                found.append(
                    {
                        "post": post.post,
                        "thread": post.thread,
                        "category": post.category,
                        "title": thread.title if thread else "",
                        "by": post.by,
                        "snippet": _snippet(post.body, query.text),
                        "created_ns": post.created_ns,
                    }
                )
                if len(found) >= max(1, min(query.limit, 200)):
                    break
            return found

        return {"text": query.text, "results": await self.read(read)}

    async def notifications(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)

        def read() -> list[dict[str, Any]]:
            categories = self.forum.categories.get(query.community, {})
            posts = self.forum.posts.get(query.community, {})
            items = self.forum.notifications.get((query.community, record.did), [])
            threads = self.forum.threads.get(query.community, {})
            return [
                n | {"title": threads[n["thread"]].title if n["thread"] in threads else ""}
                for n in reversed(items)
                if self.may_read(record, categories.get(n["category"]))
                and n["post"] in posts
                and posts[n["post"]].state == "visible"
            ][: max(1, query.limit)]

        return {"notifications": await self.read(read)}

    async def conversations(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)

        def read() -> list[dict[str, Any]]:
            rows = [
                c
                for c in self.chat.conversations.get(query.community, {}).values()
                if self.may_read_conversation(record, c)
            ]
            rows.sort(key=lambda c: -c.last_ns)
            return [
                {
                    "conversation": c.conversation,
                    "kind": c.kind,
                    "name": c.name,
                    "members": list(c.members),
                    "encrypted": c.encrypted,
                    "messages": len(c.messages),
                    "unread": self.chat.unread(query.community, record.did, c),
                }
                for c in rows
            ]

        return {"conversations": await self.read(read)}

    def _message_view(self, record: MemberRecord, message: MessageRow) -> dict[str, Any]:
        view: dict[str, Any] = {
            "message": message.message,
            "by": message.by,
            "at_ns": message.at_ns,
            "parent": message.parent,
            "replies": message.replies,
            "reactions": {r: len(w) for r, w in message.reactions.items() if w},
        }
        if message.sealed:
            mine = [s for s in message.sealed if s.to == record.did]
            view["sealed"] = {"key": mine[0].key, "box": mine[0].box} if mine else None
        else:
            view["body"], view["html"] = message.body, render(message.body)
        return view

    async def messages(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)

        def read() -> dict[str, Any]:
            row = self.chat.conversations.get(query.community, {}).get(query.conversation)
            if not self.may_read_conversation(record, row):
                raise Missing("unknown_conversation", "there is no such conversation")
            assert row is not None
            messages = self.chat.messages[query.community]
            visible = [messages[m] for m in row.messages if messages[m].state == "visible"]
            if query.thread:
                visible = [m for m in visible if m.parent == query.thread or m.message == query.thread]
            views = [self._message_view(record, m) for m in visible[-max(1, min(query.limit, 500)) :]]
            return {
                "conversation": row.conversation,
                "kind": row.kind,
                "encrypted": row.encrypted,
                "position": len(row.messages),
                "messages": views,
            }

        return await self.read(read)

    async def unread(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)

        def read() -> dict[str, Any]:
            inbox = sum(1 for i in self.inbox.inbox(query.community, record.did) if not i["read"])
            categories = self.forum.categories.get(query.community, {})
            threads = {
                t.thread: n
                for t in self.forum.threads.get(query.community, {}).values()
                if self.may_read(record, categories.get(t.category))
                and (n := self.forum.unread(query.community, record.did, t))
            }
            chats = {
                c.conversation: n
                for c in self.chat.conversations.get(query.community, {}).values()
                if self.may_read_conversation(record, c)
                and (n := self.chat.unread(query.community, record.did, c))
            }
            return {"inbox": inbox, "threads": threads, "conversations": chats}

        return await self.read(read)


def _snippet(body: str, text: str) -> str:
    lowered = body.casefold()
    at = min((i for w in text.split() if (i := lowered.find(w.casefold())) >= 0), default=0)
    start = max(0, at - SNIPPET // 3)
    return (
        ("…" if start else "") + body[start : start + SNIPPET] + ("…" if start + SNIPPET < len(body) else "")
    )
