"""Every membership event tag has a committed golden sample that must keep decoding (stored contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.membership.domain.events import REGISTRY
from services.membership.domain.policy import Policy
from shared.eventcodec import EventCodec
from shared.testkit.golden_events import add_new_samples, assert_golden_samples_decode

GOLDEN = Path(__file__).parent / "golden" / "membership-events-v1.json"
STATEMENT = {"type": "CommunityStatement", "actor": "did:key:z6Mkada", "nonce": "n" * 16, "proof": {}}
COMMON: dict[str, Any] = {"originator_id": "acme.member.m1", "originator_version": 1, "occurred_ns": 5}
FIELDS: dict[str, dict[str, Any]] = {
    "membership.community_created.v1": {
        "slug": "acme",
        "name": "Acme",
        "did": "did:webvh:x:acme.example",
        "policy": Policy(),
        "admin": "did:key:z6Mkada",
        "by": "operator",
    },
    "membership.community_configured.v1": {"name": "Acme", "policy": Policy(), "by": "did:key:z6Mkada"},
    "membership.community_archived.v1": {"reason": "merged", "by": "did:key:z6Mkada"},
    "membership.key_claimed.v1": {"member_id": "acme.member.m1"},
    "membership.member_invited.v1": {"name": "Bea", "email": "bea@acme.example", "code_hash": "0" * 64},
    "membership.member_applied.v1": {
        "did": "did:key:z6Mkbea",
        "name": "Bea",
        "answers": {"why": "rivers"},
        "profile": {},
        "membership_type": "standard",
    },
    "membership.member_admitted.v1": {
        "did": "did:key:z6Mkbea",
        "name": "Bea",
        "membership_type": "standard",
        "roles": ("member",),
        "term_start_ns": 5,
        "expires_ns": 10,
        "grace_ns": 2,
        "by": "did:key:z6Mkada",
    },
    "membership.member_rejected.v1": {"reason": "no", "by": "did:key:z6Mkada"},
    "membership.credential_issued.v1": {
        "kind": "MembershipCredential",
        "credential": {"type": ["VerifiableCredential"]},
        "status_index": 7,
        "status_list": "https://acme.example/status/1",
        "valid_until": "2030-01-01T00:00:00Z",
    },
    "membership.credential_status_set.v1": {"status_index": 7, "purpose": "suspension", "value": True},
    "membership.membership_acknowledged.v1": {"acknowledgement": {"type": []}, "digest": "uEi"},
    "membership.member_suspended.v1": {"reason": "spam", "by": "did:key:z6Mkada"},
    "membership.member_reinstated.v1": {"by": "did:key:z6Mkada"},
    "membership.member_left.v1": {},
    "membership.member_removed.v1": {"reason": "fraud", "by": "did:key:z6Mkada"},
    "membership.membership_renewed.v1": {"expires_ns": 20, "grace_ns": 2, "by": "did:key:z6Mkada"},
    "membership.roles_changed.v1": {"roles": ("member", "treasurer"), "by": "did:key:z6Mkada"},
    "membership.profile_updated.v1": {
        "name": "Bea",
        "profile": {},
        "tags": ("board",),
        "by": "did:key:z6Mkbea",
    },
    "membership.roll_snapshotted.v1": {
        "community": "acme",
        "at_ns": 5,
        "members": ("did:key:z6Mkbea",),
        "root": "ab" * 32,
        "size": 1,
    },
}


def samples() -> dict[str, bytes]:
    codec = EventCodec(REGISTRY)
    out = {}
    for tag in REGISTRY.tags:
        schema = REGISTRY.schema(tag)
        extra = {"statement": STATEMENT} if "statement" in schema.__struct_fields__ else {}
        event = schema(**COMMON, **FIELDS[tag], **extra)
        out[tag] = codec.encode(event)[1]
    return out


def test_every_tag_has_a_golden_sample_and_each_still_decodes_to_the_same_event() -> None:
    assert_golden_samples_decode(REGISTRY, GOLDEN)


if __name__ == "__main__":  # adds samples for NEW tags only; never rewrites an existing sample
    codec = EventCodec(REGISTRY)
    events = {tag: codec.decode(tag, data) for tag, data in samples().items()}
    print("added:", add_new_samples(GOLDEN, events, REGISTRY))
