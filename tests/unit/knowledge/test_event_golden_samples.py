"""Every knowledge event tag has a committed golden sample that must keep decoding (stored contract)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.knowledge.domain.events import REGISTRY
from shared.eventcodec import EventCodec
from shared.testkit.golden_events import add_new_samples, assert_golden_samples_decode

GOLDEN = Path(__file__).parent / "golden" / "knowledge-events-v1.json"
STATEMENT = {"type": "CommunityStatement", "actor": "did:key:z6Mkada", "nonce": "n" * 16, "proof": {}}
COMMON: dict[str, Any] = {"originator_id": "acme.document.d1", "originator_version": 1, "occurred_ns": 5}
CONTENT: dict[str, Any] = {
    "document": "d1",
    "title": "Handbook",
    "filename": "handbook.md",
    "media_type": "text/markdown",
    "size": 12,
    "sha256": "ab" * 32,
    "text": "# Dues\n\n40 euros.",
    "read_roles": ("board",),
    "by": "did:key:z6Mkada",
}
FIELDS: dict[str, dict[str, Any]] = {
    "knowledge.library_configured.v1": {"uploader_roles": ("librarian",), "by": "did:key:z6Mkada"},
    "knowledge.document_added.v1": CONTENT,
    "knowledge.document_revised.v1": CONTENT,
    "knowledge.document_deleted.v1": {"document": "d1", "reason": "outdated", "by": "did:key:z6Mkada"},
}


def samples() -> dict[str, bytes]:
    codec = EventCodec(REGISTRY)
    return {
        tag: codec.encode(REGISTRY.schema(tag)(**COMMON, **FIELDS[tag], statement=STATEMENT))[1]
        for tag in REGISTRY.tags
    }


def test_every_tag_has_a_golden_sample_and_each_still_decodes_to_the_same_event() -> None:
    assert_golden_samples_decode(REGISTRY, GOLDEN)


if __name__ == "__main__":  # adds samples for NEW tags only; never rewrites an existing sample
    codec = EventCodec(REGISTRY)
    events = {tag: codec.decode(tag, data) for tag, data in samples().items()}
    print("added:", add_new_samples(GOLDEN, events, REGISTRY))
