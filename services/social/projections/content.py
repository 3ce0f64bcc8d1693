"""Announcements and forum posts of each community, read from MESSAGING events (the shared contract).

The messaging service's events are decoded as plain maps (`type` = tag), never through its
classes: `messaging.announcement_sent.v1`, `category_created|configured.v1`,
`post_created|edited.v1`, `post_hidden|removed.v1` and `post_restored.v1`. A hidden or removed
post leaves every feed until it is restored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.social.adapters.members import MemberRecord

EXCERPT = 280


@dataclass
class Announcement:
    announcement: str
    title: str
    body: str
    audience: dict[str, list[str]]
    by: str
    at: int
    recipients: frozenset[str] | None = None  # who was in the audience at sending, when recorded

    def reaches(self, member: MemberRecord) -> bool:
        """Her, if she was among its recipients at sending; else if she matches its audience now."""
        if self.recipients is not None:
            return member.did in self.recipients
        roles, types, tags = (self.audience.get(k) or [] for k in ("roles", "types", "tags"))
        if roles and not set(roles) & set(member.roles):
            return False
        if types and member.membership_type not in types:
            return False
        return not (tags and not set(tags) & set(member.tags))


@dataclass
class ForumPost:
    post: str
    thread: str
    category: str
    title: str
    body: str
    by: str
    at: int
    hidden: bool = False


@dataclass
class CommunityContent:
    announcements: dict[str, Announcement] = field(default_factory=dict)
    read_roles: dict[str, list[str]] = field(default_factory=dict)
    posts: dict[str, ForumPost] = field(default_factory=dict)


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


class ContentView:
    def __init__(self) -> None:
        self.position = 0  # the MESSAGING stream sequence applied last
        self._content: dict[str, CommunityContent] = {}

    def apply_event(self, community: str, event: dict[str, Any], at: int) -> None:
        """One decoded messaging event (a map with its tag in `type`)."""
        content = self._content.setdefault(community, CommunityContent())
        tag = event.get("type")

        def text(name: str) -> str:
            return str(event.get(name) or "")

        if tag == "messaging.announcement_sent.v1":
            given = event.get("audience")
            audience: dict[str, Any] = given if isinstance(given, dict) else {}
            content.announcements[text("announcement")] = Announcement(
                text("announcement"),
                text("title"),
                text("body"),
                {k: _strings(audience.get(k)) for k in ("roles", "types", "tags")},
                text("by"),
                at,
                frozenset(_strings(event["recipients"]))
                if isinstance(event.get("recipients"), list)
                else None,
            )
        elif tag in ("messaging.category_created.v1", "messaging.category_configured.v1"):
            content.read_roles[text("category")] = _strings(event.get("read_roles"))
        elif tag == "messaging.post_created.v1":
            content.posts[text("post")] = ForumPost(
                text("post"), text("thread"), text("category"), text("title"), text("body"), text("by"), at
            )
        elif tag == "messaging.post_edited.v1":
            found = content.posts.get(text("post"))
            if found is not None:
                found.body = text("body")
                found.title = text("title") or found.title
        elif tag in ("messaging.post_hidden.v1", "messaging.post_removed.v1"):
            found = content.posts.get(text("post"))
            if found is not None:
                found.hidden = True
        elif tag == "messaging.post_restored.v1":
            found = content.posts.get(text("post"))
            if found is not None:
                found.hidden = False

    def announcements_for(self, community: str, member: MemberRecord) -> list[Announcement]:
        content = self._content.get(community)
        if content is None:
            return []
        return [a for a in content.announcements.values() if a.reaches(member)]

    def threads_for(self, community: str, member: MemberRecord) -> list[ForumPost]:
        """Thread-opening posts in categories she may read (empty read_roles: every member)."""
        content = self._content.get(community)
        if content is None:
            return []
        out = []
        for post in content.posts.values():
            roles = content.read_roles.get(post.category, [])
            if post.hidden or not post.title or (roles and not set(roles) & set(member.roles)):
                continue
            out.append(post)
        return out
