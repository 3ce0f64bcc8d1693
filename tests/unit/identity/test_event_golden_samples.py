"""Every identity event tag has a committed golden sample that must keep decoding (stored contract).

`python -m tests.unit.identity.test_event_golden_samples` adds samples for NEW tags only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.identity.domain.events import REGISTRY
from shared.domain import Event
from shared.testkit.golden_events import add_new_samples, assert_golden_samples_decode

GOLDEN = Path(__file__).parent / "golden" / "identity-events-v1.json"
ADA, BEA = "did:key:z6Mkada", "did:key:z6Mkbea"
STATEMENT = {"type": "CommunityStatement", "actor": ADA, "nonce": "n" * 16, "proof": {}}
ENTRY = {"versionId": "1-Qm", "versionTime": "2026-11-23T12:00:00Z", "parameters": {}, "state": {}}
FIELDS: dict[str, dict[str, Any]] = {
    "identity.invite_created.v1": {
        "community": "acme", "inviter": ADA, "recipient_name": "Bea", "expires_ns": 9,
        "token_hash": "0" * 64, "credential": {"type": ["InvitationCredential"]}, "statement": STATEMENT,
    },
    "identity.invite_accepted.v1": {"invitee": BEA, "statement": STATEMENT},
    "identity.invite_revoked.v1": {"statement": STATEMENT},
    "identity.inviter_invite_issued.v1": {"invite_id": "acme.invite.i1"},
    "identity.inviter_invite_settled.v1": {"invite_id": "acme.invite.i1"},
    "identity.session_started.v1": {
        "community": "acme", "member": ADA, "refresh_hash": "1" * 64, "expires_ns": 9,
        "statement": STATEMENT,
    },
    "identity.session_refreshed.v1": {"refresh_hash": "2" * 64, "expires_ns": 10},
    "identity.session_ended.v1": {"reason": "signed_out"},
    "identity.community_did_created.v1": {
        "community": "acme", "did": "did:webvh:Qm:cos.localhost:c:acme", "key_index": 0, "log_entry": ENTRY,
    },
    "identity.community_did_updated.v1": {"key_index": 1, "log_entry": ENTRY},
    "identity.credential_issued.v1": {
        "credential_type": "MembershipCredential", "subject": BEA, "status_index": 3,
        "credential": {"type": ["VerifiableCredential"]},
    },
    "identity.credential_status_set.v1": {"purpose": "suspension", "index": 3, "value": True},
}  # fmt: skip


def samples() -> dict[str, Event]:
    common = {"originator_id": "acme.invite.i1", "originator_version": 1, "occurred_ns": 5}
    return {tag: REGISTRY.schema(tag)(**common, **FIELDS[tag]) for tag in REGISTRY.tags}


def test_every_identity_tag_has_a_golden_sample_that_still_decodes() -> None:
    assert_golden_samples_decode(REGISTRY, GOLDEN)


if __name__ == "__main__":
    print("added:", add_new_samples(GOLDEN, samples(), REGISTRY))
