"""Events of the MESSAGING stream (tags are the stored contract: never change one, add a new one).

Every member act carries her signed statement verbatim (`statement`); None only for what the
service itself records (a scheduled send, a welcome on admission, SMTP results).
The content events (`announcement_sent`, `category_*`, `post_*`) keep the fields other services
index (knowledge) as plain msgpack maps: see `docs/decisions/0015-messaging.md`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from shared.domain import Event
from shared.eventcodec import EventRegistry

Statement = dict[str, Any] | None


class Audience(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who an announcement is for; all empty means every member in good standing."""

    roles: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


class Quote(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    post: str
    excerpt: str
    by: str = ""


class Sealed(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One recipient's copy of an end-to-end encrypted message: a sealed box to her X25519 key."""

    to: str  # her did:key
    key: str  # the X25519 Multikey (z6LS…) the client encrypted to
    box: str  # base64 of the sealed box


# -- announcements ------------------------------------------------------------------------------


class AnnouncementDrafted(Event, frozen=True, tag="messaging.announcement_drafted.v1"):
    announcement: str
    title: str
    body: str
    audience: Audience
    send_at_ns: int  # 0: a draft, sent when asked
    by: str
    statement: Statement = None


class AnnouncementSent(Event, frozen=True, tag="messaging.announcement_sent.v1"):
    announcement: str
    title: str
    body: str
    audience: Audience
    by: str
    recipients: tuple[str, ...]  # DIDs in good standing and in the audience at the instant of sending
    document: dict[str, Any]  # the announcement as a credential signed by the community's DID
    statement: Statement = None


class AnnouncementCancelled(Event, frozen=True, tag="messaging.announcement_cancelled.v1"):
    announcement: str
    by: str
    statement: Statement = None


class AnnouncementEmailed(Event, frozen=True, tag="messaging.announcement_emailed.v1"):
    """What the SMTP server answered, per recipient: `sent`, or the refusal it gave."""

    announcement: str
    results: dict[str, str]


class AnnouncementPublicSet(Event, frozen=True, tag="messaging.announcement_public_set.v1"):
    """An admin put an announcement to every member in the community's public archive (`public`
    true: anyone may read it, with its signed document, without an account) or took it out (false).
    Recorded beside the draft when it is composed public; a draft or scheduled one shows only once
    sent. The log keeps every change."""

    announcement: str
    public: bool
    by: str
    statement: Statement = None


# -- community-wide settings --------------------------------------------------------------------


class WelcomeConfigured(Event, frozen=True, tag="messaging.welcome_configured.v1"):
    announcement: str
    title: str
    body: str
    document: dict[str, Any]  # signed by the community, as every announcement
    by: str
    statement: Statement = None


# -- one member's own state ---------------------------------------------------------------------


class AnnouncementRead(Event, frozen=True, tag="messaging.announcement_read.v1"):
    member: str
    announcement: str
    statement: Statement = None


class WelcomeDelivered(Event, frozen=True, tag="messaging.welcome_delivered.v1"):
    member: str
    announcement: str
    admitted_ns: int


class EmailOptInRequested(Event, frozen=True, tag="messaging.email_opt_in_requested.v1"):
    member: str
    email: str
    token_hash: str  # sha256 hex of the link's secret; the secret goes by mail only
    expires_ns: int
    statement: Statement = None


class EmailVerified(Event, frozen=True, tag="messaging.email_verified.v1"):
    member: str
    email: str


class EmailOptedOut(Event, frozen=True, tag="messaging.email_opted_out.v1"):
    member: str
    statement: Statement = None


class EmailBounced(Event, frozen=True, tag="messaging.email_bounced.v1"):
    """The mail server refused her address for good (a hard bounce: no such mailbox): mail to it
    stops until she confirms an address again."""

    member: str
    email: str
    said: str  # what the server answered, e.g. "550 5.1.1 mailbox unavailable"


class EmailOptedOutByLink(Event, frozen=True, tag="messaging.email_opted_out_by_link.v1"):
    """She stopped all mail with the unsubscribe link of a mail (RFC 8058): no statement, since
    she signed nothing; the link's secret (not recorded) proved she received mail there."""

    member: str


class NotificationLevelSet(Event, frozen=True, tag="messaging.notification_level_set.v1"):
    member: str
    scope: str  # category:<id> | thread:<id> | conversation:<id>
    level: str  # watching | normal | muted
    statement: Statement = None


class ReadMarkerSet(Event, frozen=True, tag="messaging.read_marker_set.v1"):
    member: str
    scope: str  # thread:<id> | conversation:<id>
    position: int  # how many items of the scope she has read
    statement: Statement = None


class DigestConfigured(Event, frozen=True, tag="messaging.digest_configured.v1"):
    """How often she wants a summary by email of what she has not read: off, daily or weekly,
    at `hour` (0-23, UTC) and, weekly, on `weekday` (0 = Monday)."""

    member: str
    frequency: str  # off | daily | weekly
    hour: int
    weekday: int
    statement: Statement = None


class DigestMailed(Event, frozen=True, tag="messaging.digest_mailed.v1"):
    """A summary went to her address (recorded by the service after the SMTP server's answer): what
    it covered, `(since_ns, until_ns]`, how many items it listed, and the server's answer."""

    member: str
    period: str  # e.g. "daily 2026-11-24", "weekly 2026-W48"
    since_ns: int
    until_ns: int
    items: int
    result: str  # sent | the refusal the server gave


# -- spaces: forum categories and chat conversations -------------------------------------------


class CategoryCreated(Event, frozen=True, tag="messaging.category_created.v1"):
    category: str
    name: str
    description: str
    read_roles: tuple[str, ...]
    post_roles: tuple[str, ...]
    by: str
    statement: Statement = None


class CategoryConfigured(Event, frozen=True, tag="messaging.category_configured.v1"):
    category: str
    name: str
    description: str
    read_roles: tuple[str, ...]
    post_roles: tuple[str, ...]
    by: str
    statement: Statement = None


class ConversationCreated(Event, frozen=True, tag="messaging.conversation_created.v1"):
    conversation: str
    kind: str  # channel | group | direct
    name: str
    members: tuple[str, ...]  # groups and direct messages: exactly who may read and write
    read_roles: tuple[str, ...]  # channels: empty = all members in good standing
    encrypted: bool
    by: str
    statement: Statement = None


class ConversationMembersChanged(Event, frozen=True, tag="messaging.conversation_members_changed.v1"):
    conversation: str
    members: tuple[str, ...]
    by: str
    statement: Statement = None


class MemberBanned(Event, frozen=True, tag="messaging.member_banned.v1"):
    space: str  # category:<id> | conversation:<id>
    member: str
    reason: str
    by: str
    statement: Statement = None


class MemberUnbanned(Event, frozen=True, tag="messaging.member_unbanned.v1"):
    space: str
    member: str
    reason: str
    by: str
    statement: Statement = None


# -- forum threads and posts ---------------------------------------------------------------------


class ThreadStarted(Event, frozen=True, tag="messaging.thread_started.v1"):
    thread: str
    category: str
    title: str
    post: str  # the opening post
    by: str


class ThreadPinned(Event, frozen=True, tag="messaging.thread_pinned.v1"):
    thread: str
    pinned: bool
    by: str
    statement: Statement = None


class ThreadResolved(Event, frozen=True, tag="messaging.thread_resolved.v1"):
    thread: str
    resolved: bool
    answer: str  # the post that answers it, or ""
    by: str
    statement: Statement = None


class PostCreated(Event, frozen=True, tag="messaging.post_created.v1"):
    post: str
    thread: str
    category: str
    title: str  # the thread's title for its opening post, "" for a reply
    body: str  # Markdown source
    by: str
    quote: Quote | None = None
    mentions: tuple[str, ...] = ()
    statement: Statement = None


class PostEdited(Event, frozen=True, tag="messaging.post_edited.v1"):
    post: str
    thread: str
    category: str
    title: str
    body: str
    by: str
    statement: Statement = None


class ModerationFields(Event, frozen=True):
    post: str
    thread: str
    category: str
    by: str
    reason: str
    statement: Statement = None


class PostFlagged(ModerationFields, frozen=True, tag="messaging.post_flagged.v1"):
    pass


class PostHidden(ModerationFields, frozen=True, tag="messaging.post_hidden.v1"):
    pass


class PostRemoved(ModerationFields, frozen=True, tag="messaging.post_removed.v1"):
    pass


class PostRestored(ModerationFields, frozen=True, tag="messaging.post_restored.v1"):
    pass


class ReactionAdded(Event, frozen=True, tag="messaging.reaction_added.v1"):
    target: str  # post or message id
    reaction: str
    by: str
    statement: Statement = None


class ReactionRemoved(Event, frozen=True, tag="messaging.reaction_removed.v1"):
    target: str
    reaction: str
    by: str
    statement: Statement = None


# -- chat messages -------------------------------------------------------------------------------


class MessagePosted(Event, frozen=True, tag="messaging.message_posted.v1"):
    message: str
    conversation: str
    body: str  # "" when encrypted: then only `sealed` holds the content
    sealed: tuple[Sealed, ...]
    parent: str  # the message this one answers in a thread, or ""
    by: str
    statement: Statement = None


class MessageModerated(Event, frozen=True, tag="messaging.message_moderated.v1"):
    message: str
    conversation: str
    action: str  # flag | hide | remove | restore
    by: str
    reason: str
    statement: Statement = None


# -- appeals -------------------------------------------------------------------------------------


class AppealFiled(Event, frozen=True, tag="messaging.appeal_filed.v1"):
    appeal: str
    target_kind: str  # post | message | ban
    target: str  # post id, message id, or the space of the ban
    by: str
    reason: str
    statement: Statement = None


class AppealDecided(Event, frozen=True, tag="messaging.appeal_decided.v1"):
    appeal: str
    decision: str  # upheld | overturned
    by: str
    reason: str
    statement: Statement = None


REGISTRY = EventRegistry(
    [
        AnnouncementDrafted,
        AnnouncementSent,
        AnnouncementCancelled,
        AnnouncementEmailed,
        AnnouncementPublicSet,
        WelcomeConfigured,
        AnnouncementRead,
        WelcomeDelivered,
        EmailOptInRequested,
        EmailVerified,
        EmailOptedOut,
        EmailOptedOutByLink,
        EmailBounced,
        NotificationLevelSet,
        ReadMarkerSet,
        DigestConfigured,
        DigestMailed,
        CategoryCreated,
        CategoryConfigured,
        ConversationCreated,
        ConversationMembersChanged,
        MemberBanned,
        MemberUnbanned,
        ThreadStarted,
        ThreadPinned,
        ThreadResolved,
        PostCreated,
        PostEdited,
        PostFlagged,
        PostHidden,
        PostRemoved,
        PostRestored,
        ReactionAdded,
        ReactionRemoved,
        MessagePosted,
        MessageModerated,
        AppealFiled,
        AppealDecided,
    ]
)
