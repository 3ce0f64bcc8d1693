"""`cos audit governance BUNDLE [--json]`: recompute every poll of a community from its exported log.

Verifies the service's signature on every commit, each member's signed statement, the committed
roll and its Merkle root, each ballot's eligibility (and proof, for secret ballots), proxies, the
trustees' key ceremony and decryptions, and recounts every poll with the auditor's own code.
Prints the recomputed results; exit 0 only when everything verifies (1: findings, 2: unreadable).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from services.governance.audit import AuditReport, Finding, audit_community
from shared.bundle import BundleError, read_bundle


def register(checks: Any) -> None:
    parser: argparse.ArgumentParser = checks.add_parser(
        "governance",
        help="recompute every poll of a community bundle: signatures, roll, ballots, proofs, tallies",
    )
    parser.add_argument("bundle", type=Path, help="an exported community bundle (docs/formats/bundle.md)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument("--workers", type=int, default=None, help="processes for signatures and proofs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        bundle = read_bundle(args.bundle, strict=False)
    except (BundleError, OSError) as exc:
        print(f"cannot read {args.bundle}: {exc}")
        return 2
    report = audit_community(
        bundle.community, bundle.commits("MEMBERSHIP"), bundle.commits("GOVERNANCE"), workers=args.workers
    )
    for problem in bundle.problems:
        report.findings.insert(0, Finding(problem.stream or "BUNDLE", problem.position, problem.reason))
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps(report.as_json() | {"seconds": round(elapsed, 3)}, sort_keys=True))
    else:
        print_report(report, elapsed)
    return 0 if report.ok else 1


def print_report(report: AuditReport, elapsed: float) -> None:
    counts = ", ".join(f"{stream} {n}" for stream, n in report.commits.items())
    print(
        f"governance audit of {report.community}: {counts} commits, {report.ballots_checked} ballots checked"
    )
    for stream, signers in report.signers.items():
        print(f"  {stream} signed by {', '.join(signers) or 'nobody'}")
    for poll in report.polls:
        secrecy = "secret" if poll.secret else "open"
        print(f"poll {poll.poll} ({poll.kind}, {secrecy}): {poll.status}")
        for c in poll.complaints:
            answer = "answered with a share that verifies" if c["answered"] else "NOT ANSWERED"
            print(f"  trustee {c['recipient']} complained of trustee {c['dealer']}'s share: {answer}")
        if poll.recomputed is None:
            continue
        print(f"  eligible {poll.eligible}, voted {poll.voters}, by proxy {poll.delegated}")
        for name in ("totals", "winners", "target", "reached", "quorum_met", "outcome"):
            if name in poll.recomputed:
                print(f"  {name}: {poll.recomputed[name]}")
    for finding in report.findings:
        print(f"FAILED {finding}")
    verdict = "everything verifies" if report.ok else f"{len(report.findings)} problem(s)"
    print(f"{verdict} ({elapsed:.2f} s)")
