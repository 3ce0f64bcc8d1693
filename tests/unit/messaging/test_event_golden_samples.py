"""Every messaging event tag has a committed golden sample that must keep decoding (stored contract).

The content events others index (knowledge) must also decode as plain maps with the agreed fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from services.messaging.domain.events import REGISTRY, Audience, Quote, Sealed
from shared.eventcodec import EventCodec
from shared.testkit.golden_events import add_new_samples, assert_golden_samples_decode

GOLDEN = Path(__file__).parent / "golden" / "messaging-events-v1.json"
STATEMENT: dict[str, Any] = {
    "type": "CommunityStatement",
    "actor": "did:key:z6Mkada",
    "nonce": "n" * 16,
    "proof": {},
}
COMMON: dict[str, Any] = {"originator_id": "acme.post.p1", "originator_version": 1, "occurred_ns": 5}
ADA, BEA = "did:key:z6Mkada", "did:key:z6Mkbea"
MODERATED = {"post": "p1", "thread": "t1", "category": "general", "by": ADA, "reason": "spam"}
FIELDS: dict[str, dict[str, Any]] = {
    "messaging.announcement_drafted.v1": {
        "announcement": "a1",
        "title": "AGM",
        "body": "Thursday",
        "audience": Audience(tags=("board",)),
        "send_at_ns": 9,
        "by": ADA,
    },
    "messaging.announcement_sent.v1": {
        "announcement": "a1",
        "title": "AGM",
        "body": "Thursday",
        "audience": Audience(),
        "by": ADA,
        "recipients": (BEA,),
        "document": {"type": ["VerifiableCredential", "AnnouncementCredential"]},
    },
    "messaging.announcement_cancelled.v1": {"announcement": "a1", "by": ADA},
    "messaging.announcement_emailed.v1": {"announcement": "a1", "results": {BEA: "sent"}},
    "messaging.announcement_public_set.v1": {"announcement": "a1", "public": True, "by": ADA},
    "messaging.welcome_configured.v1": {
        "announcement": "welcome-1",
        "title": "Hi",
        "body": "Welcome",
        "document": {},
        "by": ADA,
    },
    "messaging.announcement_read.v1": {"member": BEA, "announcement": "a1"},
    "messaging.welcome_delivered.v1": {"member": BEA, "announcement": "welcome-1", "admitted_ns": 4},
    "messaging.email_opt_in_requested.v1": {
        "member": BEA,
        "email": "bea@acme.example",
        "token_hash": "0" * 64,
        "expires_ns": 10,
    },
    "messaging.email_verified.v1": {"member": BEA, "email": "bea@acme.example"},
    "messaging.email_opted_out.v1": {"member": BEA},
    "messaging.email_opted_out_by_link.v1": {"member": BEA},
    "messaging.email_bounced.v1": {
        "member": BEA,
        "email": "bea@acme.example",
        "said": "550 5.1.1 no such user",
    },
    "messaging.notification_level_set.v1": {"member": BEA, "scope": "thread:t1", "level": "watching"},
    "messaging.read_marker_set.v1": {"member": BEA, "scope": "thread:t1", "position": 3},
    "messaging.digest_configured.v1": {"member": BEA, "frequency": "weekly", "hour": 18, "weekday": 4},
    "messaging.digest_mailed.v1": {
        "member": BEA,
        "period": "weekly 2026-W48",
        "since_ns": 3,
        "until_ns": 4,
        "items": 7,
        "result": "sent",
    },
    "messaging.category_created.v1": {
        "category": "general",
        "name": "General",
        "description": "",
        "read_roles": (),
        "post_roles": (),
        "by": ADA,
    },
    "messaging.category_configured.v1": {
        "category": "general",
        "name": "General",
        "description": "x",
        "read_roles": ("board",),
        "post_roles": (),
        "by": ADA,
    },
    "messaging.conversation_created.v1": {
        "conversation": "c1",
        "kind": "direct",
        "name": "",
        "members": (ADA, BEA),
        "read_roles": (),
        "encrypted": True,
        "by": ADA,
    },
    "messaging.conversation_members_changed.v1": {"conversation": "c1", "members": (ADA, BEA), "by": ADA},
    "messaging.member_banned.v1": {"space": "category:general", "member": BEA, "reason": "flood", "by": ADA},
    "messaging.member_unbanned.v1": {"space": "category:general", "member": BEA, "reason": "ok", "by": ADA},
    "messaging.thread_started.v1": {
        "thread": "t1",
        "category": "general",
        "title": "Hi",
        "post": "p1",
        "by": BEA,
    },
    "messaging.thread_pinned.v1": {"thread": "t1", "pinned": True, "by": ADA},
    "messaging.thread_resolved.v1": {"thread": "t1", "resolved": True, "answer": "p2", "by": BEA},
    "messaging.post_created.v1": {
        "post": "p2",
        "thread": "t1",
        "category": "general",
        "title": "",
        "body": "yes",
        "by": ADA,
        "quote": Quote(post="p1", excerpt="Hi", by=BEA),
        "mentions": (BEA,),
    },
    "messaging.post_edited.v1": {
        "post": "p2",
        "thread": "t1",
        "category": "general",
        "title": "",
        "body": "yes!",
        "by": ADA,
    },
    "messaging.post_flagged.v1": MODERATED,
    "messaging.post_hidden.v1": MODERATED,
    "messaging.post_removed.v1": MODERATED,
    "messaging.post_restored.v1": MODERATED,
    "messaging.reaction_added.v1": {"target": "p1", "reaction": "+1", "by": BEA},
    "messaging.reaction_removed.v1": {"target": "p1", "reaction": "+1", "by": BEA},
    "messaging.message_posted.v1": {
        "message": "m1",
        "conversation": "c1",
        "body": "",
        "parent": "",
        "by": ADA,
        "sealed": (Sealed(to=BEA, key="z6LSbea", box="AAAA"),),
    },
    "messaging.message_moderated.v1": {
        "message": "m1",
        "conversation": "c1",
        "action": "hide",
        "by": ADA,
        "reason": "abuse",
    },
    "messaging.appeal_filed.v1": {
        "appeal": "ap1",
        "target_kind": "post",
        "target": "p1",
        "by": BEA,
        "reason": "joke",
    },
    "messaging.appeal_decided.v1": {"appeal": "ap1", "decision": "overturned", "by": ADA, "reason": "fine"},
}
CONTRACT = {
    "messaging.announcement_sent.v1": {"announcement", "title", "body", "audience", "by"},
    "messaging.category_created.v1": {"category", "name", "read_roles"},
    "messaging.category_configured.v1": {"category", "name", "read_roles"},
    "messaging.post_created.v1": {"post", "thread", "category", "title", "body", "by"},
    "messaging.post_edited.v1": {"post", "thread", "category", "title", "body", "by"},
    "messaging.post_removed.v1": {"post", "thread", "category", "by", "reason"},
    "messaging.post_hidden.v1": {"post", "thread", "category", "by", "reason"},
    "messaging.post_restored.v1": {"post", "thread", "category", "by", "reason"},
}


def samples() -> dict[str, bytes]:
    codec = EventCodec(REGISTRY)
    out = {}
    for tag in REGISTRY.tags:
        schema = REGISTRY.schema(tag)
        extra: dict[str, Any] = {"statement": STATEMENT} if "statement" in schema.__struct_fields__ else {}
        out[tag] = codec.encode(schema(**COMMON, **FIELDS[tag], **extra))[1]
    return out


def test_every_tag_has_a_golden_sample_and_each_still_decodes_to_the_same_event() -> None:
    assert_golden_samples_decode(REGISTRY, GOLDEN)


def test_content_events_decode_as_plain_maps_with_the_fields_other_services_index() -> None:
    encoded = samples()
    for tag, fields in CONTRACT.items():
        plain = msgspec.msgpack.decode(encoded[tag])
        assert plain["type"] == tag
        assert fields <= set(plain), tag
    sent = msgspec.msgpack.decode(encoded["messaging.announcement_sent.v1"])
    assert sent["audience"] == {"roles": [], "types": [], "tags": []}


if __name__ == "__main__":  # adds samples for NEW tags only; never rewrites an existing sample
    codec = EventCodec(REGISTRY)
    events = {tag: codec.decode(tag, data) for tag, data in samples().items()}
    print("added:", add_new_samples(GOLDEN, events, REGISTRY))
