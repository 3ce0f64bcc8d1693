"""Builds the golden envelope samples; run `python -m tests.contract.golden_samples` to (re)write them.

Golden files are committed and must keep decoding and verifying forever: a change that breaks
them is a breaking change of the stored format and needs a new tag plus an upcaster.
"""

from __future__ import annotations

import json
from pathlib import Path

from shared.envelope import Commit, EventRecord, TrackingMarker, seal
from shared.signing import SigningKey

GOLDEN = Path(__file__).parent / "golden"
SEED = bytes(range(32))  # fixed, public: these samples prove format stability, not secrecy


def samples() -> dict[str, Commit | TrackingMarker]:
    key = SigningKey(SEED)
    commit = Commit(
        commit_id="0b7f3c1e-8d2a-4f5b-9c61-3e2d1a0f9b88",
        community="acme",
        subject="governance.acme.poll.p-2026-agm",
        originator_id="acme.poll.p-2026-agm",
        originator_id_kind="str",
        first_version=1,
        last_version=2,
        event_types=["governance.poll_opened.v1", "governance.roll_committed.v1"],
        timestamp_ns=1_795_000_000_000_000_000,
        signer=key.key_id,
        events=[
            EventRecord("governance.poll_opened.v1", 1, b'{"title":"Adopt the 2027 budget"}'),
            EventRecord("governance.roll_committed.v1", 2, b'{"root":"ab12","size":42}'),
        ],
    )
    marker = TrackingMarker(
        commit_id="5e0c2b7a-1f43-4d1e-a6b2-7c9d8e0f1a2b",
        application_name="governance-results",
        notification_id=42_000_001,
        timestamp_ns=1_795_000_000_000_000_001,
        signer=key.key_id,
    )
    return {"commit-v1": commit, "tracking-v1": marker}


def write() -> None:
    key = SigningKey(SEED)
    GOLDEN.mkdir(exist_ok=True)
    for name, body in samples().items():
        (GOLDEN / f"{name}.msgpack").write_bytes(seal(body, key))
    (GOLDEN / "signer.json").write_text(
        json.dumps({"did": key.key_id, "public_key_hex": key.public_key.hex()}, indent=2) + "\n"
    )


if __name__ == "__main__":
    write()
