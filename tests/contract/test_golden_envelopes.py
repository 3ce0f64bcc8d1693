"""Committed envelope samples keep decoding, verifying and re-encoding to the same bytes."""

from __future__ import annotations

import json

import pytest

from shared.envelope import Commit, TrackingMarker, open_envelope, seal
from shared.signing import SigningKey
from tests.contract.golden_samples import GOLDEN, SEED, samples

SIGNER = json.loads((GOLDEN / "signer.json").read_text())


@pytest.mark.parametrize("name", ["commit-v1", "tracking-v1"])
def test_golden_sample_decodes_and_verifies_with_only_the_public_key(name: str) -> None:
    data = (GOLDEN / f"{name}.msgpack").read_bytes()
    body = open_envelope(data, bytes.fromhex(SIGNER["public_key_hex"]))
    assert body == samples()[name]
    assert body.signer == SIGNER["did"]


@pytest.mark.parametrize("name", ["commit-v1", "tracking-v1"])
def test_sealing_the_sample_again_gives_the_committed_bytes(name: str) -> None:
    assert seal(samples()[name], SigningKey(SEED)) == (GOLDEN / f"{name}.msgpack").read_bytes()


def test_golden_commit_carries_the_fields_the_format_document_names() -> None:
    body = open_envelope((GOLDEN / "commit-v1.msgpack").read_bytes())
    assert isinstance(body, Commit)
    assert body.subject == "governance.acme.poll.p-2026-agm"
    assert (body.first_version, body.last_version) == (1, 2)
    assert body.event_types == ["governance.poll_opened.v1", "governance.roll_committed.v1"]
    marker = open_envelope((GOLDEN / "tracking-v1.msgpack").read_bytes())
    assert isinstance(marker, TrackingMarker)
    assert marker.notification_id == 42_000_001
