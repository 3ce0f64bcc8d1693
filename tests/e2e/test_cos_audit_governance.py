"""`cos audit governance BUNDLE` as an auditor runs it: a real process over an exported community bundle."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

from shared.bundle import BundledCommit, write_bundle
from tests.service.test_governance_audit import Deployment, deployment, run_polls

__all__ = ["deployment"]  # the fixture, shared with the service-level audit tests


def cos_audit(bundle: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cos.cli", "audit", "governance", str(bundle), "--workers", "2", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def export(d: Deployment, out: Path) -> Path:
    membership, governance = await d.logs()
    commits = {
        stream: [BundledCommit(c.position, c.sequence, c.subject, c.data) for c in log]
        for stream, log in (("MEMBERSHIP", membership), ("GOVERNANCE", governance))
    }
    write_bundle(out, community=d.community, deployment="e2e", commits=commits)
    return out


async def test_an_auditor_recomputes_the_results_and_is_told_where_a_bundle_was_altered(
    deployment: Deployment, tmp_path: Path
) -> None:
    await run_polls(deployment)
    bundle = await export(deployment, tmp_path / "community.jsonl")

    clean = cos_audit(bundle)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "totals: {'Bea': 1, 'Cy': 2}" in clean.stdout
    assert "everything verifies" in clean.stdout
    report = json.loads(cos_audit(bundle, "--json").stdout.strip().splitlines()[-1])
    assert report["ok"] is True
    assert [p["recomputed"]["outcome"] for p in report["polls"]] == ["passed", "decided", "decided"]

    lines = bundle.read_text().splitlines()
    index, record = next(
        (i, json.loads(line))
        for i, line in enumerate(lines)
        if '"commit"' in line and ".ballot." in json.loads(line).get("subject", "")
    )
    data = bytearray(base64.b64decode(record["data"]))
    data[-80] ^= 1
    record["data"] = base64.b64encode(bytes(data)).decode()
    lines[index] = json.dumps(record)
    altered = tmp_path / "altered.jsonl"
    altered.write_text("\n".join(lines) + "\n")
    failed = cos_audit(altered, "--json")
    assert failed.returncode == 1
    findings = json.loads(failed.stdout.strip().splitlines()[-1])["findings"]
    assert any(f["stream"] == "GOVERNANCE" and f["position"] == record["position"] for f in findings)
