"""Commands of the social service (`social.cmd.<name>`) and the bodies of members' signed statements.

A member's act carries her signed statement; what she asks for is the statement's `body`, decoded
into one of the `*Body` types here, so nothing unsigned changes what is done.
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.social.domain.feed import FeedDefinition

Document = dict[str, Any]


class Signed(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    statement: Document


class PostsQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    author: str | None = None
    hashtag: str | None = None
    limit: int = 50
    before: int | None = None  # a cursor: the `at` of the last post of the previous page


class PostQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    post: str


class MemberQuery(msgspec.Struct, forbid_unknown_fields=True):
    """A member's own read (feed, network): the gateway has checked who she is."""

    community: str
    member: str


class DefinitionQuery(msgspec.Struct, forbid_unknown_fields=True):
    """A member reads another member's shared feed definition (or her own)."""

    community: str
    member: str
    owner: str


class CommentsQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    post: str
    member: str  # who reads: comments are for members


class FeedQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str
    limit: int = 50
    before: int | None = None


# -- bodies of signed statements ------------------------------------------------------------------


class PublishBody(msgspec.Struct, forbid_unknown_fields=True):
    post: str
    document: Document  # the signed BlogPostingCredential


class WithdrawBody(msgspec.Struct, forbid_unknown_fields=True):
    post: str
    reason: str = ""


class CommentBody(msgspec.Struct, forbid_unknown_fields=True):
    post: str
    text: str
    reply_to: str = ""


class RemoveCommentBody(msgspec.Struct, forbid_unknown_fields=True):
    post: str
    comment: str


class FollowBody(msgspec.Struct, forbid_unknown_fields=True):
    author: str
    hashtags: list[str] = []


class UnfollowBody(msgspec.Struct, forbid_unknown_fields=True):
    author: str


class ConfigureFeedBody(msgspec.Struct, forbid_unknown_fields=True):
    definition: FeedDefinition
    replace_follows: bool = False
    share: bool | None = None  # publish the definition to the community's members (None: unchanged)


class ProposeBody(msgspec.Struct, forbid_unknown_fields=True):
    introduction: str
    first: str
    second: str
    note: str = ""


class AnswerBody(msgspec.Struct, forbid_unknown_fields=True):
    introduction: str
    consent: bool
    reason: str = ""
    relationship: Document | None = None  # required with consent: her RelationshipCredential
    chat: Document | None = None  # her signed `messaging.create_conversation` request for the group chat


class LeaveBody(msgspec.Struct, forbid_unknown_fields=True):
    introduction: str
    note: str = ""
    chat: Document | None = None  # her signed `messaging.change_members` leaving the two in the chat


class RateBody(msgspec.Struct, forbid_unknown_fields=True):
    introduction: str
    value: int
    note: str = ""


class RetryChatBody(msgspec.Struct, forbid_unknown_fields=True):
    introduction: str
    chat: Document


class RelationshipBody(msgspec.Struct, forbid_unknown_fields=True):
    credential: Document


class VaultStoreBody(msgspec.Struct, forbid_unknown_fields=True):
    item: str
    expected_version: int
    ciphertext: str
    nonce: str


class VaultItemBody(msgspec.Struct, forbid_unknown_fields=True):
    item: str
    version: int | None = None  # None: the latest


class VaultListBody(msgspec.Struct, forbid_unknown_fields=True):
    pass
