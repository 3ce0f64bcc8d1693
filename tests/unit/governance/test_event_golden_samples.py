"""Every governance event tag has a committed golden sample that must keep decoding (stored contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.governance.domain.events import REGISTRY
from services.governance.domain.rules import PollSpec, SecretSettings
from shared.eventcodec import EventCodec
from shared.testkit.golden_events import add_new_samples, assert_golden_samples_decode

GOLDEN = Path(__file__).parent / "golden" / "governance-events-v1.json"
STATEMENT: dict[str, Any] = {
    "type": "CommunityStatement",
    "actor": "did:key:z6Mkada",
    "nonce": "n" * 16,
    "proof": {},
}
COMMON: dict[str, Any] = {"originator_id": "acme.poll.p1", "originator_version": 1, "occurred_ns": 5}
ADA, BEA = "did:key:z6Mkada", "did:key:z6Mkbea"
SPEC = PollSpec(kind="single", title="Colour", options=("red", "blue"), secret=SecretSettings((ADA, BEA), 2))
FIELDS: dict[str, dict[str, Any]] = {
    "governance.settings_configured.v1": {
        "community": "acme",
        "proxy_limit": 3,
        "poll_creators": "members",
        "by": ADA,
    },
    "governance.poll_created.v1": {
        "community": "acme",
        "poll": "p1",
        "spec": SPEC,
        "opens_ns": 5,
        "closes_ns": 9,
        "proxy_limit": 3,
        "by": ADA,
    },
    "governance.trustee_committed.v1": {"trustee": 1, "did": ADA, "commitment": {"dealer": 1}},
    "governance.share_complained.v1": {"trustee": 2, "dealer": 1, "did": BEA},
    "governance.share_revealed.v1": {
        "dealer": 1,
        "recipient": 2,
        "share": {"dealer": 1, "recipient": 2, "value": "0a" * 32},
        "did": ADA,
    },
    "governance.poll_opened.v1": {
        "snapshot": "s1",
        "root": "ab" * 32,
        "size": 2,
        "roll_at_ns": 5,
        "public_key": "cd" * 32,
        "setup": {"poll_id": "acme.poll.p1"},
    },
    "governance.reminder_sent.v1": {"due_ns": 7, "recipients": 1},
    "governance.poll_closed.v1": {"reason": "by_author", "by": ADA},
    "governance.poll_extended.v1": {"closes_ns": 12, "by": ADA},
    "governance.tally_encrypted.v1": {"tally": {"ballots": 2}, "voters": 2, "delegated": 1},
    "governance.partial_decryption_submitted.v1": {"trustee": 2, "partial": {"trustee": 2}, "valid": True},
    "governance.results_recorded.v1": {"result": {"outcome": "decided", "totals": {"red": 1, "blue": 1}}},
    "governance.outcome_stated.v1": {"text": "Blue it is.", "by": ADA},
    "governance.ballot_cast.v1": {
        "community": "acme",
        "poll": "p1",
        "voter": BEA,
        "cast_by": ADA,
        "delegation": "d1",
        "ballot": {"poll_id": "acme.poll.p1"},
        "tracker": "t" * 43,
    },
    "governance.delegation_granted.v1": {"community": "acme", "delegator": BEA, "proxy": ADA, "poll": "p1"},
    "governance.delegation_revoked.v1": {"by": BEA},
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


if __name__ == "__main__":  # adds samples for NEW tags only; never rewrites an existing sample
    codec = EventCodec(REGISTRY)
    events = {tag: codec.decode(tag, data) for tag, data in samples().items()}
    print("added:", add_new_samples(GOLDEN, events, REGISTRY))
