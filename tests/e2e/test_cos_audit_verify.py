"""`cos audit verify FILE` as an auditor runs it: exit 0 on a sound bundle, else non-zero with positions."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cos.cli import main
from shared.transparency.samples import sample_log, write_sample_bundle


def cos(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cos.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_cos_audit_verify_passes_a_sound_bundle_and_fails_a_damaged_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = sample_log("river", {"MEMBERSHIP": 20}, checkpoint_every=8)
    good = tmp_path / "good.jsonl"
    write_sample_bundle(good, "river", log)
    assert main(["audit", "verify", str(good), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["counts"]["commits"] == 20

    lines = good.read_text().splitlines()
    record = json.loads(lines[5])  # header, one key, then the commit at position 3
    assert record["position"] == 3
    data = bytearray(base64.b64decode(record["data"]))
    data[10] ^= 0xFF
    record["data"] = base64.b64encode(bytes(data)).decode()
    lines[5] = json.dumps(record)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    failed = cos("audit", "verify", str(bad))  # the installed command line, as an auditor runs it
    assert failed.returncode == 1
    assert "FAILED" in failed.stdout
    assert "line 6, MEMBERSHIP, position 3" in failed.stdout

    assert main(["audit", "verify", str(tmp_path / "nope.jsonl")]) == 1
    assert "cannot open" in capsys.readouterr().out


def test_cos_import_refuses_a_bundle_that_does_not_verify_before_touching_any_deployment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = sample_log("river", {"MEMBERSHIP": 6})
    path = tmp_path / "river.jsonl"
    write_sample_bundle(path, "river", log, checkpoints=log.checkpoints[:0])  # no checkpoint at all
    # No server listens on port 9: the refusal comes before any connection is tried.
    assert main(["import", str(path), "--nats-url", "nats://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "does not verify; nothing imported" in err
    assert "not covered by a valid checkpoint" in err
