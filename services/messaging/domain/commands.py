"""Commands of the messaging service (`messaging.cmd.<name>`) and the bodies of signed statements.

Every act carries the member's signed statement (action `messaging.<command>`); what she asks for
is the statement's `body`, decoded into one of the `*Body` types, so nothing unsigned changes what
is done. Reads name the member the gateway authenticated (`Query.member`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.messaging.domain.events import Audience, Sealed


class Signed(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    statement: dict[str, Any]


class Query(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str
    announcement: str = ""
    category: str = ""
    thread: str = ""
    post: str = ""
    conversation: str = ""
    text: str = ""
    limit: int = 50


class VerifyEmail(msgspec.Struct, forbid_unknown_fields=True):
    """Following the link in the verification mail: the secret proves the address, no session needed."""

    community: str
    member: str
    token: str


class EmailLink(msgspec.Struct, forbid_unknown_fields=True):
    """The unsubscribe link of a mail (RFC 8058): its secret proves she received mail there.
    `confirm` false only looks (the page a person sees first); true stops all mail."""

    community: str
    member: str
    token: str
    confirm: bool = False


class ArchiveQuery(msgspec.Struct, forbid_unknown_fields=True):
    """The community's public archive, for anyone (no member named): a page of it, newest first
    (`before` the cursor a previous page gave as `next`), or one announcement."""

    community: str
    announcement: str = ""
    before: str = ""
    limit: int = 20


class Body(msgspec.Struct, forbid_unknown_fields=True):
    pass


class ComposeBody(Body):
    title: str
    body: str
    audience: Audience = Audience()
    send_at: str | None = None  # RFC 3339: schedule; absent: send now unless `draft`
    draft: bool = False
    announcement: str = ""  # a client-chosen id makes a retry idempotent
    public: bool = False  # also in the public archive, once sent (only for every member)


class AnnouncementBody(Body):
    announcement: str


class PublicBody(Body):
    """Put a sent (or still pending) announcement in the public archive, or take it out."""

    announcement: str
    public: bool


class WelcomeBody(Body):
    title: str
    body: str


class EmailBody(Body):
    email: str


class EmptyBody(Body):
    pass


class LevelBody(Body):
    scope: str
    level: str


class DigestBody(Body):
    frequency: str  # off | daily | weekly
    hour: int = 7  # UTC
    weekday: int = 0  # Monday; weekly only


class MarkerBody(Body):
    scope: str
    position: int


class CategoryBody(Body):
    category: str
    name: str
    description: str = ""
    read_roles: tuple[str, ...] = ()
    post_roles: tuple[str, ...] = ()


class ThreadBody(Body):
    category: str
    title: str
    body: str
    mentions: tuple[str, ...] = ()
    thread: str = ""


class QuoteBody(Body):
    post: str
    excerpt: str


class ReplyBody(Body):
    thread: str
    body: str
    quote: QuoteBody | None = None
    mentions: tuple[str, ...] = ()
    post: str = ""


class EditBody(Body):
    post: str
    body: str
    title: str = ""


class ReactBody(Body):
    target: str  # a post or message id
    reaction: str
    kind: str = "post"  # post | message
    add: bool = True


class PinBody(Body):
    thread: str
    pinned: bool = True


class ResolveBody(Body):
    thread: str
    resolved: bool = True
    answer: str = ""


class ConversationBody(Body):
    kind: str  # channel | group | direct
    name: str = ""
    members: tuple[str, ...] = ()
    read_roles: tuple[str, ...] = ()
    conversation: str = ""


class MembersBody(Body):
    conversation: str
    members: tuple[str, ...]


class MessageBody(Body):
    conversation: str
    body: str = ""
    sealed: tuple[Sealed, ...] = ()
    parent: str = ""
    message: str = ""


class ModerateBody(Body):
    target: str
    action: str  # flag | hide | remove | restore
    reason: str
    kind: str = "post"  # post | message


class BanBody(Body):
    space: str  # category:<id> | conversation:<id>
    member: str
    reason: str
    ban: bool = True


class AppealBody(Body):
    target_kind: str  # post | message | ban
    target: str  # post id, message id, or the space of the ban
    reason: str


class DecideBody(Body):
    appeal: str
    decision: str  # upheld | overturned
    reason: str
