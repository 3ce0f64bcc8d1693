"""Events of the SOCIAL stream (tags are the stored contract: never change one, add a new one).

Every act of a member carries her signed statement verbatim (`statement`), so anyone replaying
the stream can check that she, and not an operator, did it. A published post also carries her
signed post document (a self-issued `BlogPostingCredential`), which is what public readers verify.
"""

from __future__ import annotations

from typing import Any

from shared.domain import Event
from shared.eventcodec import EventRegistry

Document = dict[str, Any]


# -- blog ------------------------------------------------------------------------------------------


class PostPublished(Event, frozen=True, tag="social.post_published.v1"):
    post: str  # the post's id (a subject token)
    author: str  # did:key
    headline: str
    body: str  # Markdown source
    hashtags: tuple[str, ...]
    document: Document  # the author's signed BlogPostingCredential, verbatim
    statement: Document


class PostRevised(Event, frozen=True, tag="social.post_revised.v1"):
    headline: str
    body: str
    hashtags: tuple[str, ...]
    document: Document
    statement: Document


class PostWithdrawn(Event, frozen=True, tag="social.post_withdrawn.v1"):
    reason: str
    statement: Document


class CommentAdded(Event, frozen=True, tag="social.comment_added.v1"):
    comment: str
    by: str
    text: str
    reply_to: str  # "" for a comment on the post itself, else the comment answered
    statement: Document


class CommentRemoved(Event, frozen=True, tag="social.comment_removed.v1"):
    comment: str
    by: str  # the commenter herself, or the post's author
    statement: Document


# -- follows and feed rules (one aggregate per member) -----------------------------------------------


class AuthorFollowed(Event, frozen=True, tag="social.author_followed.v1"):
    follower: str
    author: str
    hashtags: tuple[str, ...]  # empty: everything the author publishes
    statement: Document


class AuthorUnfollowed(Event, frozen=True, tag="social.author_unfollowed.v1"):
    follower: str
    author: str
    statement: Document


class FeedConfigured(Event, frozen=True, tag="social.feed_configured.v1"):
    member: str
    name: str
    posts: bool
    announcements: bool
    discussions: bool
    max_hops: int  # 0: no trust filter; N: only authors within N hops of her relationships
    statement: Document
    shared: bool = False  # other members of the community may read (and adopt) this definition


# -- relationships (one aggregate per unordered pair of members) --------------------------------------


class RelationshipRecorded(Event, frozen=True, tag="social.relationship_recorded.v1"):
    """One direction of a trust edge: `issuer` signed a RelationshipCredential about `subject`."""

    issuer: str
    subject: str
    credential: Document
    introduction: str = ""  # the introduction that led to it, if any
    statement: Document | None = None


# -- introductions -------------------------------------------------------------------------------------


class IntroductionProposed(Event, frozen=True, tag="social.introduction_proposed.v1"):
    introduction: str
    introducer: str
    first: str
    second: str
    note: str
    statement: Document


class IntroductionAnswered(Event, frozen=True, tag="social.introduction_answered.v1"):
    party: str
    consent: bool
    reason: str
    statement: Document
    relationship: Document | None = None  # with consent: her RelationshipCredential to the other


class IntroductionConnected(Event, frozen=True, tag="social.introduction_connected.v1"):
    chat: str  # the group chat's id, "" while pending
    chat_status: str  # opened | pending


class IntroductionChatOpened(Event, frozen=True, tag="social.introduction_chat_opened.v1"):
    chat: str


class IntroducerLeft(Event, frozen=True, tag="social.introducer_left.v1"):
    note: str
    statement: Document
    chat_left: bool = False  # messaging took her out of the introduction's chat


class IntroductionRated(Event, frozen=True, tag="social.introduction_rated.v1"):
    party: str
    value: int  # 1 (not useful) .. 5 (very valuable)
    note: str
    statement: Document


# -- vault (one aggregate per member and item; the server sees ciphertext only) ----------------------


class VaultItemStored(Event, frozen=True, tag="social.vault_item_stored.v1"):
    owner: str
    item: str  # an opaque id the client derives (the name stays encrypted)
    ciphertext: str  # base64 of XChaCha20-Poly1305 ciphertext (tag included)
    nonce: str  # base64, 24 bytes
    sha256: str  # of the ciphertext bytes, for integrity checks by anyone
    size: int
    statement: Document


class VaultItemDeleted(Event, frozen=True, tag="social.vault_item_deleted.v1"):
    owner: str
    item: str
    statement: Document


REGISTRY = EventRegistry(
    [
        PostPublished,
        PostRevised,
        PostWithdrawn,
        CommentAdded,
        CommentRemoved,
        AuthorFollowed,
        AuthorUnfollowed,
        FeedConfigured,
        RelationshipRecorded,
        IntroductionProposed,
        IntroductionAnswered,
        IntroductionConnected,
        IntroductionChatOpened,
        IntroducerLeft,
        IntroductionRated,
        VaultItemStored,
        VaultItemDeleted,
    ]
)
