"""What a member's device signs for the social service: statements, posts, relationship credentials."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from services.social.domain.post_document import normalize_hashtags, unsigned_post
from shared.statements import sign_statement
from shared.trust.credentials import issue_credential
from shared.trust.datetimes import format_datetime
from shared.trust.dtg_edges import relationship_credential
from shared.trust.member_keys import MemberKeys

__all__ = [
    "introducer_leave_request",
    "introduction_chat_request",
    "signed_post",
    "signed_relationship",
    "social_statement",
]


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(tz=UTC)).replace(microsecond=0)


def social_statement(
    keys: MemberKeys, action: str, community: str, body: dict[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """Her signed statement for `social.<action>` in `community` (a fresh nonce, two minutes valid)."""
    return sign_statement(
        keys,
        action=f"social.{action}",
        community=community,
        body=body,
        nonce=secrets.token_hex(16),
        now=now or datetime.now(tz=UTC),
    )


def signed_post(
    keys: MemberKeys,
    community: str,
    post: str,
    *,
    headline: str,
    body: str,
    hashtags: list[str] | None = None,
    now: datetime | None = None,
    published: str | None = None,
) -> dict[str, Any]:
    """Her post as a self-issued BlogPostingCredential (eddsa-jcs-2022): verifiable by `cos vc verify`.

    `published` (the post's first datePublished) makes it a revision, dated modified now.
    """
    moment = _now(now)
    signed_at = format_datetime(moment)
    unsigned = unsigned_post(
        author=keys.did,
        community=community,
        post=post,
        headline=headline,
        body=body,
        hashtags=list(normalize_hashtags(hashtags or [])),
        published=published or signed_at,
        modified=signed_at if published else None,
    )
    return issue_credential(unsigned, keys, created=moment)


def signed_relationship(keys: MemberKeys, other: str, now: datetime | None = None) -> dict[str, Any]:
    """Her RelationshipCredential about `other` (one direction of their trust edge)."""
    moment = _now(now)
    unsigned = relationship_credential(source=keys.did, target=other, valid_from=moment)
    return issue_credential(unsigned, keys, created=moment)


def introduction_chat_request(
    keys: MemberKeys, community: str, introduction: str, members: list[str], now: datetime | None = None
) -> dict[str, Any]:
    """Her signed request to messaging for the introduction's private group chat."""
    return sign_statement(
        keys,
        action="messaging.create_conversation",
        community=community,
        body={
            "kind": "group",
            "name": "Introduction",
            "members": sorted(members),
            "conversation": f"intro-{introduction}",
        },
        nonce=secrets.token_hex(16),
        now=now or datetime.now(tz=UTC),
    )


def introducer_leave_request(
    keys: MemberKeys, community: str, chat: str, introduced: list[str], now: datetime | None = None
) -> dict[str, Any]:
    """The introducer's signed request to messaging leaving the two she introduced in their chat."""
    return sign_statement(
        keys,
        action="messaging.change_members",
        community=community,
        body={"conversation": chat, "members": sorted(introduced)},
        nonce=secrets.token_hex(16),
        now=now or datetime.now(tz=UTC),
    )
