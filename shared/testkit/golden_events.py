"""Golden samples of event tags: committed bytes that must keep decoding (the stored contract)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import msgspec

from shared.domain import Event
from shared.eventcodec import EventCodec, EventRegistry


def assert_golden_samples_decode(registry: EventRegistry, path: Path) -> None:
    """Every registered tag has a committed sample, which decodes and re-encodes to its bytes."""
    golden = {tag: bytes.fromhex(data) for tag, data in json.loads(path.read_text()).items()}
    missing = sorted(set(registry.tags) - set(golden))
    assert not missing, f"no golden sample for {missing}: add one (never rewrite existing ones)"
    codec = EventCodec(registry)
    for tag, data in golden.items():
        event = codec.decode(tag, data)
        assert codec.encode(event) == (tag, data), f"{tag} no longer round-trips"
        assert msgspec.to_builtins(event)["type"] == tag


def add_new_samples(path: Path, events: Mapping[str, Event], registry: EventRegistry) -> list[str]:
    """Write samples for tags that have none yet; existing samples are never rewritten."""
    golden = json.loads(path.read_text()) if path.exists() else {}
    codec = EventCodec(registry)
    added = [tag for tag in events if tag not in golden]
    for tag in added:
        golden[tag] = codec.encode(events[tag])[1].hex()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    return added
