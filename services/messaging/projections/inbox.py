"""Announcements as members receive them: inboxes with read state, delivery and read statistics;
and the community's public archive (sent announcements an admin made public, not withdrawn)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.messaging.domain.digest import DigestSetting, reconfigured
from services.messaging.domain.events import (
    AnnouncementCancelled,
    AnnouncementDrafted,
    AnnouncementEmailed,
    AnnouncementPublicSet,
    AnnouncementRead,
    AnnouncementSent,
    DigestConfigured,
    DigestMailed,
    EmailBounced,
    EmailOptedOut,
    EmailOptedOutByLink,
    EmailVerified,
    NotificationLevelSet,
    WelcomeConfigured,
    WelcomeDelivered,
)
from shared.domain import Event

MAIL_SCOPES = ("decide", "discuss", "chat")  # notification levels that say what she gets by email


@dataclass
class Sent:
    announcement: str
    title: str
    body: str
    by: str
    at_ns: int
    audience: dict[str, Any]
    document: dict[str, Any]
    recipients: frozenset[str] = frozenset()
    welcome: bool = False
    read_by: set[str] = field(default_factory=set)
    email: dict[str, str] = field(default_factory=dict)


class InboxView:
    def __init__(self) -> None:
        self.position = 0
        self._sent: dict[str, dict[str, Sent]] = {}  # community -> announcement -> what was sent
        self._welcomes: dict[str, dict[str, Sent]] = {}  # community -> member -> her welcome
        self._pending: dict[str, dict[str, AnnouncementDrafted]] = {}  # drafts and scheduled
        self._welcome_config: dict[str, WelcomeConfigured] = {}
        self._emails: dict[tuple[str, str], str] = {}  # (community, did) -> verified address
        self._email_since: dict[tuple[str, str], int] = {}  # when that address was confirmed
        self._mail_levels: dict[tuple[str, str, str], str] = {}  # (community, did, decide|discuss)
        self._digests: dict[tuple[str, str], DigestSetting] = {}  # who asked for summaries
        self._digest_until: dict[tuple[str, str], int] = {}  # the end of her last summary's period
        self._public: dict[str, dict[str, bool]] = {}  # community -> announcement -> in the archive
        self._archive_changed: dict[str, int] = {}  # community -> when its archive last changed

    @staticmethod
    def _community(event: Event) -> str:
        return event.originator_id.split(".", 1)[0]

    def apply(self, event: Event) -> None:
        community = self._community(event)
        sent = self._sent.setdefault(community, {})
        if isinstance(event, AnnouncementDrafted):
            self._pending.setdefault(community, {})[event.announcement] = event
        elif isinstance(event, AnnouncementSent):
            self._pending.get(community, {}).pop(event.announcement, None)
            sent[event.announcement] = Sent(
                event.announcement,
                event.title,
                event.body,
                event.by,
                event.occurred_ns,
                _audience(event),
                event.document,
                frozenset(event.recipients),
            )
            if self.is_public(community, event.announcement):
                self._archive_touched(community, event.occurred_ns)
        elif isinstance(event, AnnouncementCancelled):
            self._pending.get(community, {}).pop(event.announcement, None)
        elif isinstance(event, AnnouncementPublicSet):
            self._public.setdefault(community, {})[event.announcement] = event.public
            if event.announcement in sent:
                self._archive_touched(community, event.occurred_ns)
        elif isinstance(event, AnnouncementEmailed) and event.announcement in sent:
            sent[event.announcement].email.update(event.results)
        elif isinstance(event, WelcomeConfigured):
            self._welcome_config[community] = event
        elif isinstance(event, WelcomeDelivered):
            config = self._welcome_config.get(community)
            if config is not None:
                self._welcomes.setdefault(community, {})[event.member] = Sent(
                    config.announcement,
                    config.title,
                    config.body,
                    config.by,
                    event.occurred_ns,
                    {"welcome": True},
                    config.document,
                    frozenset({event.member}),
                    welcome=True,
                )
        elif isinstance(event, AnnouncementRead):
            if event.announcement in sent:
                sent[event.announcement].read_by.add(event.member)
            welcome = self._welcomes.get(community, {}).get(event.member)
            if welcome is not None and welcome.announcement == event.announcement:
                welcome.read_by.add(event.member)
        elif isinstance(event, EmailVerified):
            self._emails[(community, event.member)] = event.email
            self._email_since[(community, event.member)] = event.occurred_ns
        elif isinstance(event, EmailOptedOut | EmailOptedOutByLink | EmailBounced):
            self._emails.pop((community, event.member), None)
            self._email_since.pop((community, event.member), None)
        elif isinstance(event, NotificationLevelSet) and event.scope in MAIL_SCOPES:
            self._mail_levels[(community, event.member, event.scope)] = event.level
        elif isinstance(event, DigestConfigured):
            key = (community, event.member)
            self._digests[key] = reconfigured(
                self._digests.get(key, DigestSetting()),
                event.frequency,
                event.hour,
                event.weekday,
                event.occurred_ns,
            )
        elif isinstance(event, DigestMailed):
            key = (community, event.member)
            self._digest_until[key] = max(self._digest_until.get(key, 0), event.until_ns)

    def _archive_touched(self, community: str, at_ns: int) -> None:
        self._archive_changed[community] = max(self._archive_changed.get(community, 0), at_ns)

    def is_public(self, community: str, announcement: str) -> bool:
        return self._public.get(community, {}).get(announcement, False)

    def archive(self, community: str) -> list[Sent]:
        """The public archive: sent announcements an admin made public, newest first. A draft or
        scheduled one marked public is not here until sent; a cancelled one never is."""
        public = self._public.get(community, {})
        items = [
            s
            for s in self._sent.get(community, {}).values()
            if public.get(s.announcement, False) and _to_everyone(s)
        ]
        return sorted(items, key=lambda s: (s.at_ns, s.announcement), reverse=True)

    def archived(self, community: str, announcement: str) -> Sent | None:
        sent = self._sent.get(community, {}).get(announcement)
        if sent is None or not _to_everyone(sent) or not self.is_public(community, announcement):
            return None
        return sent

    def archive_changed(self, community: str) -> int:
        """When an announcement last came into the archive or left it (0: never)."""
        return self._archive_changed.get(community, 0)

    def inbox(self, community: str, member: str) -> list[dict[str, Any]]:
        items = [s for s in self._sent.get(community, {}).values() if member in s.recipients]
        welcome = self._welcomes.get(community, {}).get(member)
        if welcome is not None:
            items.append(welcome)
        items.sort(key=lambda s: s.at_ns, reverse=True)
        return [_entry(s, member) for s in items]

    def find(self, community: str, member: str, announcement: str) -> Sent | None:
        sent = self._sent.get(community, {}).get(announcement)
        if sent is not None and member in sent.recipients:
            return sent
        welcome = self._welcomes.get(community, {}).get(member)
        if welcome is not None and welcome.announcement == announcement:
            return welcome
        return None

    def stats(self, community: str, announcement: str) -> dict[str, Any] | None:
        sent = self._sent.get(community, {}).get(announcement)
        if sent is None:
            return None
        results = list(sent.email.values())
        return {
            "announcement": announcement,
            "recipients": len(sent.recipients),
            "read": len(sent.read_by & sent.recipients),
            "email": {
                "sent": results.count("sent"),
                "failed": sum(1 for r in results if r != "sent"),
            },
        }

    def sent(self, community: str, limit: int) -> list[dict[str, Any]]:
        """The community's sent announcements, newest first, each with its delivery figures."""
        rows = sorted(self._sent.get(community, {}).values(), key=lambda s: s.at_ns, reverse=True)
        return [
            {
                "title": s.title,
                "by": s.by,
                "at_ns": s.at_ns,
                "audience": s.audience,
                "public": self.is_public(community, s.announcement),
            }
            | (self.stats(community, s.announcement) or {})
            for s in rows[:limit]
        ]

    def pending(self, community: str) -> list[AnnouncementDrafted]:
        return sorted(self._pending.get(community, {}).values(), key=lambda d: d.occurred_ns)

    def due(self, now: int) -> list[AnnouncementDrafted]:
        return [d for p in self._pending.values() for d in p.values() if 0 < d.send_at_ns <= now]

    def unread_between(self, community: str, member: str, since_ns: int, until_ns: int) -> list[Sent]:
        """Announcements sent to her in `(since_ns, until_ns]` that she has not opened, oldest first."""
        items = [
            s
            for s in self._sent.get(community, {}).values()
            if member in s.recipients and since_ns < s.at_ns <= until_ns and member not in s.read_by
        ]
        return sorted(items, key=lambda s: s.at_ns)

    def email_of(self, community: str, member: str) -> str:
        return self._emails.get((community, member), "")

    def email_since(self, community: str, member: str) -> int:
        """When her verified address was confirmed (0: none); unsubscribe links name it."""
        return self._email_since.get((community, member), 0)

    def decide_level(self, community: str, member: str) -> str:
        """Which governance notices she wants by email: `normal` unless she said otherwise."""
        return self._mail_levels.get((community, member, "decide"), "normal")

    def discuss_level(self, community: str, member: str) -> str:
        """Which forum posts she wants by email: `normal` (mentions, replies) unless she said otherwise."""
        return self._mail_levels.get((community, member, "discuss"), "normal")

    def chat_level(self, community: str, member: str) -> str:
        """Whether messages in her private conversations reach her by email when she is away."""
        return self._mail_levels.get((community, member, "chat"), "normal")

    def digest_of(self, community: str, member: str) -> DigestSetting:
        return self._digests.get((community, member), DigestSetting())

    def digests(self) -> list[tuple[str, str, DigestSetting, int]]:
        """(community, member, her setting, the end of her last summary's period) for every member
        who asked for summaries."""
        return [
            (c, m, s, self._digest_until.get((c, m), 0))
            for (c, m), s in self._digests.items()
            if s.frequency != "off"
        ]

    def welcomed(self, community: str, member: str) -> bool:
        return member in self._welcomes.get(community, {})

    def welcome_configured_ns(self, community: str) -> int | None:
        config = self._welcome_config.get(community)
        return None if config is None else config.occurred_ns


def _audience(event: AnnouncementSent) -> dict[str, Any]:
    audience = event.audience
    return {"roles": list(audience.roles), "types": list(audience.types), "tags": list(audience.tags)}


def _to_everyone(sent: Sent) -> bool:
    """Sent to every member (no segment): the only kind the archive shows, whatever was recorded."""
    return not sent.welcome and not any(sent.audience.get(k) for k in ("roles", "types", "tags"))


def _entry(sent: Sent, member: str) -> dict[str, Any]:
    return {
        "announcement": sent.announcement,
        "title": sent.title,
        "by": sent.by,
        "at_ns": sent.at_ns,
        "welcome": sent.welcome,
        "read": member in sent.read_by,
    }
