"""The bundle verifier: a sound bundle passes; each kind of damage is found, with its position."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from cos.audits.verify import VerifyReport, verify_file
from shared.bundle import BundleError, read_bundle, write_bundle
from shared.signing import SigningKey
from shared.transparency.checkpoint import Checkpoint, note_signer_name, sign_checkpoint
from shared.transparency.layout import origin
from shared.transparency.merkle import MerkleTree
from shared.transparency.samples import SampleLog, sample_log, write_sample_bundle

COMMUNITY = "river"
LOG_KEY = SigningKey(bytes(range(32)))


@pytest.fixture
def log() -> SampleLog:
    return sample_log(COMMUNITY, {"MEMBERSHIP": 40, "GOVERNANCE": 12}, checkpoint_every=16, log_key=LOG_KEY)


@pytest.fixture
def bundle(tmp_path: Path, log: SampleLog) -> Path:
    path = tmp_path / "river.jsonl"
    write_sample_bundle(path, COMMUNITY, log)
    return path


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def rewrite(path: Path, lines: list[dict[str, object]]) -> None:
    """Write records back as a forger would: with a fresh, matching end record."""
    import hashlib

    body = [json.dumps(r, separators=(",", ":")) + "\n" for r in lines if r["type"] != "end"]
    end = next(r for r in lines if r["type"] == "end")
    end["sha256"] = hashlib.sha256("".join(body).encode()).hexdigest()
    path.write_text("".join(body) + json.dumps(end) + "\n")


def errors(report: VerifyReport) -> list[tuple[str, str | None, int | None]]:
    return [(f.check, f.stream, f.position) for f in report.errors]


def test_a_sound_bundle_verifies_and_reads_back(bundle: Path) -> None:
    report = verify_file(bundle)
    assert report.ok, report.text()
    assert report.counts["commits"] == 52
    assert report.counts["checkpoints"] == 3 + 1  # sizes 16, 32, 40 and 12
    read = read_bundle(bundle)
    assert read.community == COMMUNITY
    assert read.streams == ["MEMBERSHIP", "GOVERNANCE"]
    assert [c.position for c in read.commits("MEMBERSHIP")] == list(range(40))
    assert read.commits("SOCIAL") == []


def test_a_flipped_byte_in_a_commit_is_found_at_its_position(bundle: Path) -> None:
    lines = records(bundle)
    target = next(r for r in lines if r["type"] == "commit" and r["position"] == 17)
    data = bytearray(base64.b64decode(str(target["data"])))
    data[-20] ^= 0x01
    target["data"] = base64.b64encode(bytes(data)).decode()
    rewrite(bundle, lines)
    report = verify_file(bundle)
    assert not report.ok
    assert ("envelopes", "MEMBERSHIP", 17) in errors(report)
    assert ("checkpoints", "MEMBERSHIP", 16) in errors(report)  # the first checkpoint after it fails


def test_a_flipped_byte_anywhere_in_the_file_fails_the_digest(bundle: Path) -> None:
    raw = bytearray(bundle.read_bytes())
    raw[len(raw) // 2] ^= 0x20
    bundle.write_bytes(bytes(raw))
    report = verify_file(bundle)
    assert not report.ok
    assert report.errors


def test_a_dropped_commit_is_found(bundle: Path) -> None:
    lines = [r for r in records(bundle) if not (r["type"] == "commit" and r["position"] == 30)]
    for r in lines:
        if r["type"] == "end":
            r["commits"] = {"MEMBERSHIP": 39, "GOVERNANCE": 12}
    rewrite(bundle, lines)
    report = verify_file(bundle)
    assert ("structure", "MEMBERSHIP", 30) in errors(report)
    assert any(f.check == "checkpoints" and f.position == 39 for f in report.errors)  # size 40 > 39 commits


def test_a_dropped_and_renumbered_commit_is_still_found_by_the_checkpoints(bundle: Path) -> None:
    lines = [r for r in records(bundle) if not (r["type"] == "commit" and r["position"] == 25)]
    for r in lines:
        if r["type"] == "commit" and r["stream"] == "MEMBERSHIP" and int(str(r["position"])) > 25:
            r["position"] = int(str(r["position"])) - 1
        if r["type"] == "end":
            r["commits"] = {"MEMBERSHIP": 39, "GOVERNANCE": 12}
    rewrite(bundle, lines)
    report = verify_file(bundle)
    assert not report.ok
    # the next commit of its aggregate (old position 35, now 34) skips a version
    assert ("envelopes", "MEMBERSHIP", 34) in errors(report)
    assert any(f.check == "checkpoints" and f.stream == "MEMBERSHIP" for f in report.errors)


def test_reordered_commits_are_found(bundle: Path) -> None:
    lines = records(bundle)
    i = next(k for k, r in enumerate(lines) if r["type"] == "commit" and r["position"] == 5)
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    lines[i]["position"], lines[i + 1]["position"] = 5, 6
    rewrite(bundle, lines)
    report = verify_file(bundle)
    assert ("structure", "MEMBERSHIP", 6) in errors(report)  # stream sequence goes back
    assert ("checkpoints", "MEMBERSHIP", 0) in errors(report)  # the first checkpoint covers 5 and 6


def test_a_forked_checkpoint_is_found(bundle: Path, log: SampleLog) -> None:
    altered = MerkleTree.of_leaves([*(c.data for c in log.commits["GOVERNANCE"][:11]), b"a different commit"])
    fork = sign_checkpoint(
        Checkpoint(origin("sample.example", COMMUNITY, "GOVERNANCE"), 12, altered.root()),
        LOG_KEY,
        note_signer_name("sample.example"),
    )
    lines = records(bundle)
    end = lines.pop()
    lines.append({"type": "checkpoint", "stream": "GOVERNANCE", "note": fork.text})
    end["checkpoints"] = int(str(end["checkpoints"])) + 1
    lines.append(end)
    rewrite(bundle, lines)
    report = verify_file(bundle)
    assert not report.ok
    assert any(
        f.check == "checkpoints" and f.stream == "GOVERNANCE" and "forked" in f.message for f in report.errors
    )


def test_a_checkpoint_signed_by_an_unknown_key_or_a_pinned_other_key_fails(
    bundle: Path, log: SampleLog
) -> None:
    report = verify_file(bundle, keys=[log.keys[0]])
    assert report.ok, report.text()
    from shared.transparency.checkpoint import verifier_key

    stranger = verifier_key(note_signer_name("sample.example"), SigningKey.generate().public_key)
    report = verify_file(bundle, keys=[stranger])
    assert not report.ok
    assert {f.check for f in report.errors} == {"checkpoints"}


def test_commits_beyond_the_newest_checkpoint_are_reported_uncovered(tmp_path: Path, log: SampleLog) -> None:
    path = tmp_path / "partial.jsonl"
    write_sample_bundle(path, COMMUNITY, log, [c for c in log.checkpoints if "\n40\n" not in c.note])
    report = verify_file(path)
    assert ("checkpoints", "MEMBERSHIP", 32) in errors(report)


def test_truncated_and_foreign_files_are_refused_with_a_line(tmp_path: Path, bundle: Path) -> None:
    lines = bundle.read_text().splitlines(keepends=True)
    bundle.write_text("".join(lines[:-3]))
    with pytest.raises(BundleError, match="truncated"):
        read_bundle(bundle)
    assert not verify_file(bundle).ok
    other = tmp_path / "other.json"
    other.write_text('{"type": "something else"}\n')
    with pytest.raises(BundleError, match="line 1"):
        read_bundle(other)
    assert not verify_file(other).ok
    with pytest.raises(BundleError, match="cannot open"):
        read_bundle(tmp_path / "missing")


def test_an_empty_community_bundle_verifies(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    write_bundle(path, community="quiet", deployment="d", commits={})
    report = verify_file(path)
    assert report.ok, report.text()
    assert read_bundle(path).streams == []


def test_a_commit_signed_by_another_key_than_it_names_is_found(bundle: Path) -> None:
    import msgspec

    from shared.envelope import Envelope, peek_body

    lines = records(bundle)
    target = next(
        r for r in lines if r["type"] == "commit" and r["stream"] == "GOVERNANCE" and r["position"] == 4
    )
    envelope, _ = peek_body(base64.b64decode(str(target["data"])))
    forged = Envelope(body=envelope.body, signature=SigningKey.generate().sign(envelope.body))
    target["data"] = base64.b64encode(msgspec.msgpack.encode(forged)).decode()
    rewrite(bundle, lines)
    report = verify_file(bundle)
    found = [f for f in report.errors if f.check == "envelopes"]
    assert [(f.stream, f.position) for f in found] == [("GOVERNANCE", 4)]
    assert "does not verify" in found[0].message
