"""What verifying a member statement costs: the shared verifier against the reference path.

Usage: `cos bench statements [--statements N] [--members M] [--json]`. N statements (default 5,000)
are signed by M members (default 200) the way their devices sign them; each is then verified by
`shared.statements.verify_statement` (the fast path) and by the same function forced onto the
reference eddsa-jcs-2022 verifier (`verify_proof` through an explicit resolver), and both must
accept every one. One member's statement with a tampered body is also timed on both, since a
refusal falls back to the reference to name its reason. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from shared.statements import sign_statement, verify_statement
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import default_resolver

ACTION = "governance.cast"
COMMUNITY = "bench-statements"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--statements", type=int, default=5_000, help="statements to verify")
    parser.add_argument("--members", type=int, default=200, help="distinct signing members")
    parser.add_argument("--json", action="store_true", help="only the JSON result line")


def _statements(count: int, members: int, now: datetime) -> list[dict[str, Any]]:
    keys = [MemberKeys.from_seed(os.urandom(32)) for _ in range(max(1, members))]
    return [
        sign_statement(
            keys[index % len(keys)],
            action=ACTION,
            community=COMMUNITY,
            body={"poll": f"poll-{index % 7}", "choice": index % 3, "note": "ballot é"[: 6 + index % 3]},
            nonce=secrets.token_urlsafe(18),
            now=now,
        )
        for index in range(count)
    ]


def _rate(documents: list[dict[str, Any]], now: datetime, *, reference: bool) -> float:
    resolver = default_resolver() if reference else None
    started = time.perf_counter()
    for document in documents:
        verify_statement(document, action=ACTION, community=COMMUNITY, now=now, resolver=resolver)
    return time.perf_counter() - started


def run(count: int, members: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    documents = _statements(count, members, now)
    fast_s = _rate(documents, now, reference=False)
    reference_s = _rate(documents, now, reference=True)
    tampered = [{**documents[0], "body": {**documents[0]["body"], "choice": 99}}] * 200
    refused = {"fast": 0.0, "reference": 0.0}
    for name in refused:
        started = time.perf_counter()
        for document in tampered:
            try:
                verify_statement(
                    document,
                    action=ACTION,
                    community=COMMUNITY,
                    now=now,
                    resolver=default_resolver() if name == "reference" else None,
                )
            except ValueError:
                pass
            else:
                raise AssertionError("a tampered statement was accepted")
        refused[name] = time.perf_counter() - started
    return {
        "statements": count,
        "members": members,
        "fast_us_per_statement": round(fast_s / count * 1e6, 1),
        "reference_us_per_statement": round(reference_s / count * 1e6, 1),
        "fast_per_s": round(count / fast_s),
        "reference_per_s": round(count / reference_s),
        "speedup": round(reference_s / fast_s, 2),
        "refusal_fast_us": round(refused["fast"] / len(tampered) * 1e6, 1),
        "refusal_reference_us": round(refused["reference"] / len(tampered) * 1e6, 1),
    }


def execute(args: argparse.Namespace) -> int:
    result = run(max(1, args.statements), max(1, args.members))
    if not args.json:
        print(
            f"fast path        {result['fast_us_per_statement']:>8} µs/statement  "
            f"{result['fast_per_s']:>8,}/s"
        )
        print(
            f"reference        {result['reference_us_per_statement']:>8} µs/statement  "
            f"{result['reference_per_s']:>8,}/s"
        )
        print(f"speed-up         {result['speedup']:>8}x")
        print(
            f"refusal (forged) {result['refusal_fast_us']:>8} µs fast path, "
            f"{result['refusal_reference_us']} µs reference"
        )
    print(json.dumps(result))
    return 0
