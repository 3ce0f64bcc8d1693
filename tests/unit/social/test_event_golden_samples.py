"""Every social event tag has a committed golden sample that must keep decoding (stored contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.social.domain.events import REGISTRY
from shared.eventcodec import EventCodec
from shared.testkit.golden_events import add_new_samples, assert_golden_samples_decode

GOLDEN = Path(__file__).parent / "golden" / "social-events-v1.json"
STATEMENT: dict[str, Any] = {
    "type": "CommunityStatement",
    "actor": "did:key:z6Mkada",
    "nonce": "n" * 16,
    "proof": {},
}
DOCUMENT = {
    "type": ["VerifiableCredential", "BlogPostingCredential"],
    "issuer": "did:key:z6Mkada",
    "proof": {},
}
RELATIONSHIP = {"type": ["VerifiableCredential", "DTGCredential", "RelationshipCredential"], "proof": {}}
COMMON: dict[str, Any] = {"originator_id": "acme.post.p1", "originator_version": 1, "occurred_ns": 5}
POST = {"headline": "Soil", "body": "# Soil", "hashtags": ("regenerative",), "document": DOCUMENT}
FIELDS: dict[str, dict[str, Any]] = {
    "social.post_published.v1": {"post": "p1", "author": "did:key:z6Mkada", **POST},
    "social.post_revised.v1": POST,
    "social.post_withdrawn.v1": {"reason": "outdated"},
    "social.comment_added.v1": {"comment": "c1", "by": "did:key:z6Mkbea", "text": "Yes", "reply_to": ""},
    "social.comment_removed.v1": {"comment": "c1", "by": "did:key:z6Mkbea"},
    "social.author_followed.v1": {
        "follower": "did:key:z6Mkbea",
        "author": "did:key:z6Mkada",
        "hashtags": ("x",),
    },
    "social.author_unfollowed.v1": {"follower": "did:key:z6Mkbea", "author": "did:key:z6Mkada"},
    "social.feed_configured.v1": {
        "member": "did:key:z6Mkbea",
        "name": "Home",
        "posts": True,
        "announcements": False,
        "discussions": True,
        "max_hops": 2,
    },
    "social.relationship_recorded.v1": {
        "issuer": "did:key:z6Mkbea",
        "subject": "did:key:z6Mkcal",
        "credential": RELATIONSHIP,
        "introduction": "i1",
    },
    "social.introduction_proposed.v1": {
        "introduction": "i1",
        "introducer": "did:key:z6Mkada",
        "first": "did:key:z6Mkbea",
        "second": "did:key:z6Mkcal",
        "note": "both grow rye",
    },
    "social.introduction_answered.v1": {
        "party": "did:key:z6Mkbea",
        "consent": True,
        "reason": "",
        "relationship": RELATIONSHIP,
    },
    "social.introduction_connected.v1": {"chat": "", "chat_status": "pending"},
    "social.introduction_chat_opened.v1": {"chat": "intro-i1"},
    "social.introducer_left.v1": {"note": "over to you"},
    "social.introduction_rated.v1": {"party": "did:key:z6Mkbea", "value": 5, "note": "great"},
    "social.vault_item_stored.v1": {
        "owner": "did:key:z6Mkada",
        "item": "ab" * 24,
        "ciphertext": "AAAA",
        "nonce": "A" * 32,
        "sha256": "0" * 64,
        "size": 3,
    },
    "social.vault_item_deleted.v1": {"owner": "did:key:z6Mkada", "item": "ab" * 24},
}


def samples() -> dict[str, bytes]:
    codec = EventCodec(REGISTRY)
    out = {}
    for tag in REGISTRY.tags:
        schema = REGISTRY.schema(tag)
        extra: dict[str, Any] = {"statement": STATEMENT} if "statement" in schema.__struct_fields__ else {}
        event = schema(**COMMON, **FIELDS[tag], **extra)
        out[tag] = codec.encode(event)[1]
    return out


def test_every_tag_has_a_golden_sample_and_each_still_decodes_to_the_same_event() -> None:
    assert_golden_samples_decode(REGISTRY, GOLDEN)


if __name__ == "__main__":  # adds samples for NEW tags only; never rewrites an existing sample
    codec = EventCodec(REGISTRY)
    events = {tag: codec.decode(tag, data) for tag, data in samples().items()}
    print("added:", add_new_samples(GOLDEN, events, REGISTRY))
