"""Forum read models: categories, thread lists, threads with posts, search, notifications, unread counts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from services.messaging.domain.events import (
    CategoryConfigured,
    CategoryCreated,
    MemberBanned,
    MemberUnbanned,
    NotificationLevelSet,
    PostCreated,
    PostEdited,
    PostHidden,
    PostRemoved,
    PostRestored,
    ReactionAdded,
    ReactionRemoved,
    ReadMarkerSet,
    ThreadPinned,
    ThreadResolved,
    ThreadStarted,
)
from shared.domain import Event

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_NOTIFICATIONS = 500


def words(text: str) -> set[str]:
    return {w.casefold() for w in _WORD.findall(text)}


@dataclass
class CategoryRow:
    category: str
    name: str
    description: str
    read_roles: tuple[str, ...]
    post_roles: tuple[str, ...]
    banned: set[str] = field(default_factory=set)


@dataclass
class PostRow:
    post: str
    thread: str
    category: str
    by: str
    title: str
    body: str
    created_ns: int
    edited_ns: int = 0
    edits: int = 0
    state: str = "visible"
    quote: dict[str, str] | None = None
    mentions: tuple[str, ...] = ()
    reactions: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class ThreadRow:
    thread: str
    category: str
    title: str
    by: str
    created_ns: int
    posts: list[str] = field(default_factory=list)
    last_ns: int = 0
    pinned: bool = False
    resolved: bool = False
    answer: str = ""


class ForumView:
    def __init__(self) -> None:
        self.position = 0
        self.categories: dict[str, dict[str, CategoryRow]] = {}
        self.threads: dict[str, dict[str, ThreadRow]] = {}
        self.posts: dict[str, dict[str, PostRow]] = {}
        self._index: dict[str, dict[str, set[str]]] = {}  # community -> word -> post ids
        self._words: dict[str, dict[str, set[str]]] = {}  # community -> post id -> its words
        self._watchers: dict[tuple[str, str], set[str]] = {}  # (community, scope) -> watching DIDs
        self.levels: dict[tuple[str, str], dict[str, str]] = {}  # (community, did) -> scope -> level
        self.markers: dict[tuple[str, str], dict[str, int]] = {}
        self.notifications: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def apply(self, event: Event) -> None:
        community = event.originator_id.split(".", 1)[0]
        categories = self.categories.setdefault(community, {})
        threads = self.threads.setdefault(community, {})
        posts = self.posts.setdefault(community, {})
        if isinstance(event, CategoryCreated | CategoryConfigured):
            row = categories.get(event.category)
            banned = row.banned if row else set()
            categories[event.category] = CategoryRow(
                event.category, event.name, event.description, event.read_roles, event.post_roles, banned
            )
        elif isinstance(event, MemberBanned | MemberUnbanned) and event.space.startswith("category:"):
            row = categories.get(event.space.removeprefix("category:"))
            if row is not None:
                (row.banned.add if isinstance(event, MemberBanned) else row.banned.discard)(event.member)
        elif isinstance(event, ThreadStarted):
            threads[event.thread] = ThreadRow(
                event.thread,
                event.category,
                event.title,
                event.by,
                event.occurred_ns,
                last_ns=event.occurred_ns,
            )
        elif isinstance(event, PostCreated):
            quote = (
                None
                if event.quote is None
                else {"post": event.quote.post, "excerpt": event.quote.excerpt, "by": event.quote.by}
            )
            posts[event.post] = PostRow(
                event.post,
                event.thread,
                event.category,
                event.by,
                event.title,
                event.body,
                event.occurred_ns,
                quote=quote,
                mentions=event.mentions,
            )
            thread = threads.get(event.thread)
            if thread is not None:
                thread.posts.append(event.post)
                thread.last_ns = event.occurred_ns
            self._index_post(community, event.post, event.title + " " + event.body)
            self._notify(community, event)
        elif isinstance(event, PostEdited) and event.post in posts:
            post = posts[event.post]
            post.title, post.body, post.edited_ns, post.edits = (
                event.title,
                event.body,
                event.occurred_ns,
                post.edits + 1,
            )
            self._index_post(community, event.post, event.title + " " + event.body)
            if post.title and event.thread in threads:
                threads[event.thread].title = post.title
        elif isinstance(event, PostHidden | PostRemoved | PostRestored) and event.post in posts:
            posts[event.post].state = {PostHidden: "hidden", PostRemoved: "removed"}.get(
                type(event), "visible"
            )
        elif isinstance(event, ReactionAdded | ReactionRemoved) and event.target in posts:
            who = posts[event.target].reactions.setdefault(event.reaction, set())
            (who.add if isinstance(event, ReactionAdded) else who.discard)(event.by)
        elif isinstance(event, ThreadPinned) and event.thread in threads:
            threads[event.thread].pinned = event.pinned
        elif isinstance(event, ThreadResolved) and event.thread in threads:
            threads[event.thread].resolved, threads[event.thread].answer = event.resolved, event.answer
        elif isinstance(event, NotificationLevelSet):
            self.levels.setdefault((community, event.member), {})[event.scope] = event.level
            watchers = self._watchers.setdefault((community, event.scope), set())
            (watchers.add if event.level == "watching" else watchers.discard)(event.member)
        elif isinstance(event, ReadMarkerSet):
            self.markers.setdefault((community, event.member), {})[event.scope] = event.position

    def _index_post(self, community: str, post: str, text: str) -> None:
        index = self._index.setdefault(community, {})
        known = self._words.setdefault(community, {})
        for word in known.get(post, set()):
            index[word].discard(post)
        known[post] = words(text)
        for word in known[post]:
            index.setdefault(word, set()).add(post)

    def level(self, community: str, member: str, *scopes: str) -> str:
        levels = self.levels.get((community, member), {})
        for scope in scopes:
            if scope in levels:
                return levels[scope]
        return "normal"

    def notified(self, community: str, post: PostRow | PostCreated) -> dict[str, str]:
        """Whom a new post notifies, and why: mentions unless muted; watchers of its thread or
        category hear of every post; a thread's author hears of replies. Never its own author."""
        scopes = (f"thread:{post.thread}", f"category:{post.category}")
        thread = self.threads.get(community, {}).get(post.thread)
        reasons: dict[str, str] = {}
        for scope in scopes:
            for did in self._watchers.get((community, scope), ()):
                reasons[did] = "watching"
        if thread is not None and thread.by != post.by and post.title == "":
            reasons.setdefault(thread.by, "reply")
        for did in post.mentions:
            reasons[did] = "mention"
        return {
            did: reason
            for did, reason in reasons.items()
            if did != post.by and self.level(community, did, *scopes) != "muted"
        }

    def _notify(self, community: str, event: PostCreated) -> None:
        for did, reason in self.notified(community, event).items():
            inbox = self.notifications.setdefault((community, did), [])
            inbox.append(
                {
                    "reason": reason,
                    "thread": event.thread,
                    "post": event.post,
                    "by": event.by,
                    "category": event.category,
                    "at_ns": event.occurred_ns,
                }
            )
            del inbox[:-MAX_NOTIFICATIONS]

    def search(self, community: str, text: str) -> list[PostRow]:
        terms = words(text)
        if not terms:
            return []
        index = self._index.get(community, {})
        found: set[str] | None = None
        for term in terms:
            ids = index.get(term, set())
            found = set(ids) if found is None else found & ids
        posts = self.posts.get(community, {})
        rows = [posts[p] for p in found or () if p in posts]
        return sorted(rows, key=lambda r: r.created_ns, reverse=True)

    def unread(self, community: str, member: str, thread: ThreadRow) -> int:
        """Posts after her read marker, not counting her own."""
        read = self.markers.get((community, member), {}).get(f"thread:{thread.thread}", 0)
        posts = self.posts.get(community, {})
        return sum(1 for p in thread.posts[read:] if posts[p].by != member and posts[p].state == "visible")
