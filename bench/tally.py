"""Decide at scale: cast, tally and audit rates of an open and a secret poll with N eligible members.

Usage: `cos bench tally [--members N] [--options K] [--workers W] [--json]` (N defaults to 10,000).
One embedded nats-server; the governance service runs on JetStream exactly as `cos run` starts it,
with the real nonce registry. Each poll is a single choice among K options in its own community,
whose roll of N members is committed on the MEMBERSHIP stream first (directly: admitting N members
one by one is the membership benchmark's business). Members' ballots are signed (and, for the
secret poll, encrypted with proofs) beforehand in worker processes, as their devices would, and
then cast over NATS. The audit is `services.governance.audit` over the community's logs read back
from JetStream, with W processes. The last line is one JSON object; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import secrets
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from nats.aio.client import Client as NATS

from services.governance.adapters.membership import MemberRecord, Roll
from services.governance.audit import audit_community, read_community
from services.governance.bootstrap import start_governance
from services.governance.crypto import (
    BallotRules,
    EncryptedTally,
    PollKey,
    SystemRandomness,
    TrusteeSetup,
    combine_shares,
    deal,
    encrypt_ballot,
    partial_decrypt,
)
from services.governance.crypto.group import ORDER, base_mul, mul
from services.membership.application import MembershipApplication
from services.membership.bootstrap import application_env as membership_env
from services.membership.domain.roll import RollSnapshot
from shared.commands import CommandClient
from shared.natsclient import connect
from shared.natsserver import NatsServer
from shared.statements import sign_statement
from shared.trust.member_keys import MemberKeys

WINDOW = 50  # commands in flight


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--members", type=int, default=10_000, help="eligible members (and ballots) per poll")
    parser.add_argument("--options", type=int, default=2, help="options of the single-choice polls")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for audit and signing"
    )
    parser.add_argument(
        "--polls",
        choices=("both", "open", "secret"),
        default="both",
        help="which polls to run (default both)",
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON line")


def execute(args: argparse.Namespace) -> int:
    with (
        tempfile.TemporaryDirectory() as tmp,
        NatsServer(name="bench-tally", store_dir=Path(tmp) / "js") as server,
    ):
        result = asyncio.run(run(server.url, Path(tmp), args.members, args.options, args.workers, args.polls))
    if not args.json:
        for name, value in result.items():
            print(f"{name:<24} {value:>12,.2f}" if isinstance(value, float) else f"{name:<24} {value:>12}")
    print(json.dumps(result))
    return 0


class BenchMembership:
    """The membership port over rolls committed by the benchmark; everyone on a roll is in good standing."""

    def __init__(self) -> None:
        self.rolls: dict[str, Roll] = {}

    async def member(self, community: str, did: str) -> MemberRecord | None:
        roll = self.rolls.get(community)
        return MemberRecord(did, "active", ("member", "admin")) if roll and did in roll.members else None

    async def snapshot_roll(self, community: str) -> Roll:
        return self.rolls[community]

    async def get_snapshot(self, community: str, snapshot: str) -> Roll:
        return self.rolls[community]


def _sign(job: tuple[str, str, list[tuple[bytes, list[int]]], str | None]) -> list[dict[str, Any]]:
    community, poll, items, key_json = job
    key = msgspec.json.decode(key_json, type=PollKey) if key_json else None
    rng = SystemRandomness()
    signed = []
    for seed, votes in items:
        keys = MemberKeys.from_seed(seed)
        body: dict[str, Any] = {"poll": poll}
        if key is None:
            body["choice"] = [votes.index(1)]
        else:
            body["ballot"] = msgspec.to_builtins(encrypt_ballot(key, keys.did, votes, rng))
        now, nonce, window = datetime.now(tz=UTC), secrets.token_hex(16), timedelta(minutes=10)
        action = "governance.cast_ballot"
        statement = sign_statement(
            keys, action=action, community=community, body=body, nonce=nonce, now=now, valid_for=window
        )
        signed.append(statement)
    return signed


def _statement(keys: MemberKeys, community: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(tz=UTC)
    return sign_statement(
        keys,
        action=f"governance.{action}",
        community=community,
        body=body,
        nonce=secrets.token_hex(16),
        now=now,
    )


async def run(
    url: str, data: Path, members: int, options: int, workers: int, polls: str = "both"
) -> dict[str, Any]:
    nc = await connect(url)
    seeds = [os.urandom(32) for _ in range(members)]
    people = [MemberKeys.from_seed(seed) for seed in seeds]
    bench_membership = BenchMembership()
    rolls = MembershipApplication(membership_env(url, data / "membership"))
    service = await start_governance(nc, url, data / "governance", membership=bench_membership)
    client = CommandClient(nc, timeout=60)
    result: dict[str, Any] = {"members": members, "options": options, "workers": workers}
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        for secret in {"both": (False, True), "open": (False,), "secret": (True,)}[polls]:
            label = "secret" if secret else "open"
            community = f"bench{label}{secrets.token_hex(3)}"
            roll = RollSnapshot.commit(
                community=community, snapshot=secrets.token_hex(12), members=[p.did for p in people],
                at_ns=time.time_ns(),
            )  # fmt: skip
            await asyncio.to_thread(rolls.save, roll)
            bench_membership.rolls[community] = Roll(
                roll.snapshot, roll.root, len(roll.members), roll.at_ns, roll.members
            )
            figures = await one_poll(nc, client, pool, community, people, seeds, options, secret, workers)
            result.update({f"{label}_{name}": value for name, value in figures.items()})
    finally:
        pool.shutdown()
        await service.stop()
        await asyncio.to_thread(rolls.close)
        await nc.close()
    return result


async def one_poll(
    nc: NATS,
    client: CommandClient,
    pool: ProcessPoolExecutor,
    community: str,
    people: list[MemberKeys],
    seeds: list[bytes],
    options: int,
    secret: bool,
    workers: int,
) -> dict[str, Any]:
    author, trustees = people[0], people[:3]
    spec: dict[str, Any] = {"kind": "single", "title": "Motion", "options": [f"o{i}" for i in range(options)]}
    if secret:
        spec["secret"] = {"trustees": [t.did for t in trustees], "threshold": 2}
    closes = (datetime.now(tz=UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    async def act(keys: MemberKeys, action: str, body: dict[str, Any]) -> Any:
        statement = _statement(keys, community, action, body)
        return await client.call("governance", action, {"community": community, "statement": statement})

    created = await act(author, "create_poll", {"spec": spec, "closes_at": closes, "poll": "motion"})
    key_json, setup, trustee_keys = None, None, []
    if secret:
        rng = SystemRandomness()
        dealt = [deal(created["crypto_poll_id"], i, 2, 3, rng) for i in (1, 2, 3)]
        for keys, (commitment, _) in zip(trustees, dealt, strict=True):
            opened = await act(
                keys, "commit_trustee", {"poll": "motion", "commitment": msgspec.to_builtins(commitment)}
            )
        setup = TrusteeSetup(created["crypto_poll_id"], 2, 3, tuple(c for c, _ in dealt))
        shares = [s for _, dealt_shares in dealt for s in dealt_shares]
        trustee_keys = [combine_shares(setup, j, shares) for j in (1, 2, 3)]
        rules = msgspec.convert(opened["ballot_rules"], BallotRules)
        key = PollKey(created["crypto_poll_id"], opened["public_key"], rules)
        key_json = msgspec.json.encode(key).decode()

    votes = [[int(i % options == o) for o in range(options)] for i in range(len(people))]
    chunk = max(1, len(people) // (workers * 4))
    jobs = [
        (community, "motion", list(zip(seeds[i : i + chunk], votes[i : i + chunk], strict=True)), key_json)
        for i in range(0, len(people), chunk)
    ]
    started = time.perf_counter()
    statements = [
        s
        for part in await asyncio.get_running_loop().run_in_executor(
            None, lambda: list(pool.map(_sign, jobs))
        )
        for s in part
    ]
    prepare = time.perf_counter() - started

    started = time.perf_counter()
    for i in range(0, len(statements), WINDOW):
        await asyncio.gather(
            *(client.call("governance", "cast_ballot", {"community": community, "statement": s})
              for s in statements[i : i + WINDOW])
        )  # fmt: skip
    cast = time.perf_counter() - started

    started = time.perf_counter()
    closed = await act(author, "close_poll", {"poll": "motion"})
    if secret:
        tally = msgspec.convert(closed["encrypted_tally"], EncryptedTally)
        rng = SystemRandomness()
        for keys, trustee_key in list(zip(trustees, trustee_keys, strict=True))[:2]:
            partial = partial_decrypt(tally, trustee_key, rng)
            closed = await act(
                keys, "submit_partial_decryption", {"poll": "motion", "partial": msgspec.to_builtins(partial)}
            )
    tally_s = time.perf_counter() - started
    totals = closed["result"]["totals"]
    expected = {f"o{o}": sum(1 for v in votes if v[o]) for o in range(options)}
    if totals != expected:
        raise RuntimeError(f"the service counted {totals}, the benchmark cast {expected}")

    started = time.perf_counter()
    membership_log = await read_community(nc, community, "MEMBERSHIP")
    governance_log = await read_community(nc, community, "GOVERNANCE")
    read_s = time.perf_counter() - started
    mul_rate = await asyncio.to_thread(variable_base_mul_per_s)  # the same-run baseline
    cpu_before = _cpu_s()
    started = time.perf_counter()
    report = await asyncio.to_thread(
        audit_community, community, membership_log, governance_log, workers=workers
    )
    audit_s = time.perf_counter() - started
    audit_cpu_s = _cpu_s() - cpu_before
    if not report.ok or report.ballots_checked != len(people):
        raise RuntimeError(f"the audit failed: {[str(f) for f in report.findings[:5]]}")
    return {
        "ballots": len(statements),
        "prepare_s": round(prepare, 3),
        "cast_per_s": round(len(statements) / cast, 1),
        "tally_s": round(tally_s, 3),
        "read_log_s": round(read_s, 3),
        "audit_s": round(audit_s, 3),
        "audit_ballots_per_s": round(len(people) / audit_s, 1),
        # CPU seconds of the audit (this process and its workers): on a shared machine the wall time
        # above depends on the load; the CPU time much less so
        "audit_cpu_s": round(audit_cpu_s, 3),
        # the same-run baseline: variable-base multiplications per second on one core, and the time the
        # proofs' multiplications alone need on `workers` cores (6 per yes/no ballot; more per option)
        "mul_per_s": round(mul_rate),
        "audit_mul_floor_s": round(MULS_PER_BALLOT(options) * len(people) / (mul_rate * workers), 3)
        if secret
        else 0.0,
        "load_average": round(os.getloadavg()[0], 2),
    }


def MULS_PER_BALLOT(options: int) -> int:  # noqa: N802 - reads as the constant it is
    """Variable-base multiplications to verify one single-choice ballot (n-1 0/1 proofs, a 0..1 total)."""
    ciphertexts = options - 1
    return 3 * (2 * ciphertexts + (2 if ciphertexts > 1 else 0))


def _cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def variable_base_mul_per_s(count: int = 2000) -> float:
    """Variable-base multiplications per CPU second of one thread (CPU time, so the load does not count)."""
    point = base_mul(12345)
    scalars = [secrets.randbelow(ORDER) for _ in range(count)]
    started = time.thread_time()
    for k in scalars:
        mul(point, k)
    return count / (time.thread_time() - started)
