"""`cos audit verify BUNDLE`: check everything a community bundle claims, needing only the bundle.

Checked, each finding naming its line, stream and commit position:

* structure: every record readable, commit positions contiguous, stream sequences increasing, the
  end record's counts and SHA-256;
* envelopes: every commit's Ed25519 signature over its exact body, its invariants, that it is the
  community's, and per aggregate that versions continue without a gap or a step back;
* checkpoints: each note's signature under a verifier key (from the bundle, or pinned with
  `--key`), its origin, and that its root is the RFC 9162 root of the first `size` commits — which is
  the inclusion of every commit it covers; that each checkpoint is consistent with the one before
  (an RFC 9162 consistency proof from the commits, verified against both signed roots); and that the
  newest checkpoint covers every commit;
* the did:webvh log (full verification) and the signed status lists (against that log's keys);
* the governance audit, when the governance service provides one.

Exit 0 only when nothing failed.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from shared.bundle import Bundle, BundleError, bundle_resolver, read_bundle
from shared.envelope import Commit, EnvelopeError, peek_body
from shared.multikey import public_key_from_did_key
from shared.transparency.checkpoint import CheckpointError, NoteVerifier, parse_signed_checkpoint
from shared.transparency.layout import stream_prefix
from shared.transparency.merkle import MerkleTree, ProofError, verify_consistency
from shared.trust.credentials import verify_credential
from shared.trust.errors import TrustError
from shared.trust.webvh_verify import verify_log

__all__ = ["Finding", "VerifyReport", "register", "verify_bundle", "verify_file"]


@dataclass(frozen=True)
class Finding:
    check: str
    message: str
    line: int | None = None
    stream: str | None = None
    position: int | None = None
    severity: str = "error"  # or "warning": reported, does not fail the audit

    def text(self) -> str:
        where = [f"line {self.line}" if self.line else "", self.stream or "", ""]
        if self.position is not None:
            where[2] = f"position {self.position}"
        place = ", ".join(w for w in where if w)
        return f"[{self.severity}] {self.check}: {place + ': ' if place else ''}{self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "line": self.line,
            "stream": self.stream,
            "position": self.position,
        }


@dataclass
class VerifyReport:
    community: str
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)  # check -> "ok" | "failed" | "skipped: why"

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        if finding.severity == "error":
            self.checks[finding.check] = "failed"

    def passed(self, check: str) -> None:
        self.checks.setdefault(check, "ok")

    def as_json(self) -> dict[str, Any]:
        return {
            "community": self.community,
            "ok": self.ok,
            "checks": self.checks,
            "counts": self.counts,
            "findings": [f.as_json() for f in self.findings],
        }

    def text(self) -> str:
        lines = [f"community {self.community}: {'OK' if self.ok else 'FAILED'}"]
        lines += [f"  {name:<14} {state}" for name, state in self.checks.items()]
        lines += [f"  {name:<14} {n}" for name, n in self.counts.items()]
        lines += [f"  {f.text()}" for f in self.findings]
        return "\n".join(lines)


# -- the checks --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _verify_key(did: str) -> VerifyKey:
    """The Ed25519 key a did:key names, parsed once per signer (a bundle has a handful)."""
    return VerifyKey(public_key_from_did_key(did))


def _verify_chunk(items: list[tuple[int, bytes]]) -> list[tuple[int, Commit | str]]:
    """Decode, check invariants and verify the signature of each envelope (as `open_envelope` does)."""
    out: list[tuple[int, Commit | str]] = []
    for position, data in items:
        try:
            envelope, body = peek_body(data)
            key = _verify_key(body.signer)
        except (EnvelopeError, ValueError) as exc:
            out.append((position, str(exc)))
            continue
        try:
            key.verify(envelope.body, envelope.signature)
        except BadSignatureError:
            out.append((position, f"signature of {body.commit_id} does not verify under {body.signer}"))
            continue
        out.append((position, body if isinstance(body, Commit) else "a tracking marker, not a commit"))
    return out


def _check_envelopes(
    bundle: Bundle, report: VerifyReport, signers: Sequence[str], pool: ThreadPoolExecutor, workers: int
) -> None:
    seen_ids: dict[str, tuple[str, int]] = {}
    signer_dids: set[str] = set()
    for stream in bundle.streams:
        commits = bundle.commits(stream)
        items = [(c.position, c.data) for c in commits]
        chunk = max(1, -(-len(items) // (workers * 8)))
        results: list[tuple[int, Commit | str]] = []
        for part in pool.map(_verify_chunk, [items[i : i + chunk] for i in range(0, len(items), chunk)]):
            results.extend(part)
        heads: dict[str, int] = {}
        for (position, outcome), bundled in zip(results, commits, strict=True):
            line = bundled.line
            if isinstance(outcome, str):
                report.add(Finding("envelopes", outcome, line, stream, position))
                continue
            commit = outcome
            signer_dids.add(commit.signer)
            if commit.subject != bundled.subject:
                report.add(
                    Finding(
                        "envelopes",
                        f"signed subject {commit.subject} differs from the record's",
                        line,
                        stream,
                        position,
                    )
                )
            if commit.community != bundle.community or not commit.subject.startswith(
                f"{stream_prefix(stream)}."
            ):
                report.add(
                    Finding(
                        "envelopes",
                        f"commit of {commit.subject} does not belong here",
                        line,
                        stream,
                        position,
                    )
                )
            if signers and commit.signer not in signers:
                report.add(
                    Finding(
                        "envelopes", f"signed by {commit.signer}, not a pinned signer", line, stream, position
                    )
                )
            if commit.commit_id in seen_ids:
                first = seen_ids[commit.commit_id]
                report.add(
                    Finding(
                        "envelopes",
                        f"commit {commit.commit_id} appears again (first at {first[0]} position {first[1]})",
                        line,
                        stream,
                        position,
                    )
                )
            seen_ids.setdefault(commit.commit_id, (stream, position))
            last = heads.get(commit.subject)
            expected = 1 if last is None else last + 1
            if commit.first_version != expected:
                report.add(
                    Finding(
                        "envelopes",
                        f"aggregate {commit.subject} jumps from version {last or 0} to "
                        f"{commit.first_version}: a commit is missing or out of order",
                        line,
                        stream,
                        position,
                    )
                )
            heads[commit.subject] = max(commit.last_version, last or 0)
    report.counts["commits"] = bundle.commit_count
    report.counts["signers"] = len(signer_dids)
    report.passed("envelopes")


def _verifiers(
    bundle: Bundle, report: VerifyReport, pinned: Sequence[str]
) -> dict[tuple[str, bytes], NoteVerifier]:
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for text in pinned:
        v = NoteVerifier.parse(text)
        known[(v.name, v.key_id)] = v
    for text in bundle.keys:
        try:
            v = NoteVerifier.parse(text)
        except CheckpointError as exc:
            report.add(Finding("checkpoints", f"unreadable verifier key: {exc}"))
            continue
        if pinned and (v.name, v.key_id) not in known:
            report.add(
                Finding(
                    "checkpoints",
                    f"the bundle's key {text} is not pinned; its checkpoints are not trusted",
                    severity="warning",
                )
            )
            continue
        known.setdefault((v.name, v.key_id), v)
    return known


def _check_checkpoints(bundle: Bundle, report: VerifyReport, pinned: Sequence[str]) -> None:
    verifiers = _verifiers(bundle, report, pinned)
    checkpoints = 0
    for stream in bundle.streams:
        commits = bundle.commits(stream)
        tree = MerkleTree.of_leaves(c.data for c in commits)
        # per origin (signing deployment): its previous valid checkpoint's size, root and line
        previous_of: dict[str, tuple[int, bytes, int]] = {}
        verified_sizes: list[int] = []
        covered = 0
        for bundled in bundle.checkpoints_of(stream):
            checkpoints += 1
            line = bundled.line
            try:
                signed = parse_signed_checkpoint(bundled.note)
            except CheckpointError as exc:
                report.add(Finding("checkpoints", f"unreadable checkpoint: {exc}", line, stream))
                continue
            cp = signed.checkpoint
            suffix = f"/c/{bundle.community}/{stream_prefix(stream)}"
            if not cp.origin.endswith(suffix):
                report.add(
                    Finding("checkpoints", f"origin {cp.origin!r} is not a log of {suffix[1:]}", line, stream)
                )
                continue
            trusted = [verifiers[s] for s in signed.signers() if s in verifiers]
            if not trusted:
                report.add(
                    Finding(
                        "checkpoints",
                        f"checkpoint of {cp.origin} size {cp.size} has no signature by a known key",
                        line,
                        stream,
                    )
                )
                continue
            try:
                for verifier in trusted:
                    signed.verify(verifier)
            except CheckpointError as exc:
                report.add(Finding("checkpoints", str(exc), line, stream))
                continue
            if cp.size > tree.size:
                report.add(
                    Finding(
                        "checkpoints",
                        f"checkpoint size {cp.size} exceeds the {tree.size} commits in the bundle: "
                        "commits were dropped",
                        line,
                        stream,
                        tree.size,
                    )
                )
                continue
            if tree.root(cp.size) != cp.root:
                low = max((s for s in verified_sizes if s < cp.size), default=0)
                report.add(
                    Finding(
                        "checkpoints",
                        f"the signed root for tree size {cp.size} is not the root of the bundle's first "
                        f"{cp.size} commits: a commit at a position in {low}..{cp.size - 1} was altered, "
                        "dropped or reordered, or the log forked",
                        line,
                        stream,
                        low,
                    )
                )
                continue
            previous = previous_of.get(cp.origin)
            if previous is not None:
                old_size, old_root, old_line = previous
                if cp.size < old_size:
                    report.add(
                        Finding(
                            "checkpoints", f"tree size goes back from {old_size} to {cp.size}", line, stream
                        )
                    )
                    continue
                try:
                    proof = tree.consistency_proof(old_size, cp.size)
                    verify_consistency(old_size, cp.size, old_root, cp.root, proof)
                except ProofError as exc:
                    report.add(
                        Finding(
                            "checkpoints",
                            f"not consistent with the checkpoint on line {old_line}: {exc}",
                            line,
                            stream,
                        )
                    )
                    continue
            previous_of[cp.origin] = (cp.size, cp.root, line)
            verified_sizes.append(cp.size)
            covered = max(covered, cp.size)
        if covered < tree.size:
            report.add(
                Finding(
                    "checkpoints",
                    f"commits from position {covered} to {tree.size - 1} are not covered by a valid "
                    "checkpoint",
                    None,
                    stream,
                    covered,
                )
            )
    report.counts["checkpoints"] = checkpoints
    report.passed("checkpoints")


def _export_instant(bundle: Bundle) -> datetime:
    text = bundle.header.get("exported_at")
    if isinstance(text, str):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
    return datetime.now(UTC)


def _check_trust(bundle: Bundle, report: VerifyReport) -> None:
    if not bundle.did_logs and not bundle.status_lists:
        report.checks["did_log"] = "skipped: the bundle has no DID log"
        return
    at = _export_instant(bundle)
    logs = {d.did: d.log for d in bundle.did_logs}
    for d in bundle.did_logs:
        verified = verify_log(d.log, now=at)
        if verified.failure is not None:
            report.add(Finding("did_log", f"{d.did}: {verified.failure}", d.line))
        elif verified.entries[-1].state.get("id") != d.did:
            report.add(
                Finding(
                    "did_log", f"the log is of {verified.entries[-1].state.get('id')}, not {d.did}", d.line
                )
            )
    report.passed("did_log")

    resolver = bundle_resolver(bundle.did_logs, at)
    for s in bundle.status_lists:
        try:
            verified_credential = verify_credential(s.credential, resolver, now=at)
        except TrustError as exc:
            report.add(Finding("status_lists", f"{s.purpose} list does not verify: {exc}", s.line))
            continue
        if verified_credential.issuer not in logs:
            report.add(
                Finding("status_lists", f"{s.purpose} list is issued by {verified_credential.issuer}", s.line)
            )
    report.counts["status_lists"] = len(bundle.status_lists)
    report.passed("status_lists")


def _governance_audit() -> Callable[[Bundle], Any] | None:
    try:
        module = importlib.import_module("services.governance.audit")
    except ModuleNotFoundError as exc:
        if exc.name not in ("services.governance.audit",):
            raise
        return None
    for name in ("audit_bundle", "audit_governance", "run_audit", "audit", "verify_bundle", "run"):
        candidate = getattr(module, name, None)
        if callable(candidate):
            return candidate  # type: ignore[no-any-return]
    return None


def _line_of(bundle: Bundle, stream: object, position: object) -> int | None:
    if isinstance(stream, str) and isinstance(position, int) and 0 <= position < len(bundle.commits(stream)):
        return bundle.commits(stream)[position].line
    return None


def _check_governance(bundle: Bundle, report: VerifyReport) -> None:
    audit = _governance_audit()
    if audit is None:
        report.checks["governance"] = "skipped: no governance audit is installed"
        return
    try:
        outcome = audit(bundle)
    except BundleError as exc:
        report.add(Finding("governance", exc.reason, exc.line, exc.stream, exc.position))
        return
    ok = getattr(outcome, "ok", outcome if isinstance(outcome, bool) else None)
    for item in getattr(outcome, "findings", None) or []:
        position = getattr(item, "position", None)
        report.add(
            Finding(
                "governance",
                str(getattr(item, "message", item)),
                _line_of(bundle, getattr(item, "stream", None), position),
                getattr(item, "stream", None),
                position,
            )
        )
    if ok is False and report.checks.get("governance") != "failed":
        report.add(Finding("governance", "the governance audit failed"))
    polls = getattr(outcome, "polls", None)
    if polls is not None:
        report.counts["polls"] = len(polls)
    report.passed("governance")


def verify_bundle(
    bundle: Bundle,
    *,
    keys: Sequence[str] = (),
    signers: Sequence[str] = (),
    governance: bool = True,
    workers: int = 2,
) -> VerifyReport:
    report = VerifyReport(bundle.community)
    for problem in bundle.problems:
        report.add(Finding("structure", problem.reason, problem.line, problem.stream, problem.position))
    report.passed("structure")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        _check_envelopes(bundle, report, signers, pool, workers)
    _check_checkpoints(bundle, report, keys)
    _check_trust(bundle, report)
    if governance:
        _check_governance(bundle, report)
    return report


def verify_file(path: Path, **options: Any) -> VerifyReport:
    """Read `path` leniently and verify it; an unreadable header yields a report with one finding."""
    try:
        bundle = read_bundle(path, strict=False)
    except BundleError as exc:
        report = VerifyReport("?")
        report.add(Finding("structure", exc.reason, exc.line))
        return report
    return verify_bundle(bundle, **options)


# -- the command -------------------------------------------------------------------------------


def register(checks: Any) -> None:
    parser: argparse.ArgumentParser = checks.add_parser(
        "verify",
        help="verify a community bundle: signatures, checkpoints, proofs, DID log, status lists, governance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", type=Path, metavar="FILE")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="VKEY",
        help="trust only these checkpoint verifier keys (<name>+<id>+<key>; repeatable)",
    )
    parser.add_argument(
        "--signer",
        action="append",
        default=[],
        metavar="DID",
        help="accept commits signed by these did:keys only",
    )
    parser.add_argument("--no-governance", action="store_true", help="skip the governance audit")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    try:
        report = verify_file(
            args.bundle, keys=args.key, signers=args.signer, governance=not args.no_governance
        )
    except CheckpointError as exc:
        print(f"cos audit verify: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(report.text())
    return 0 if report.ok else 1
