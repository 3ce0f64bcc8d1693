"""Rough speed figures of the secret-ballot primitives (a measurement helper, not a test)."""

from __future__ import annotations

import os
import time

from .ballot import (
    BallotRules,
    EncryptedBallot,
    PollKey,
    encrypt_ballot,
    verify_ballots,
    verify_ballots_in_parallel,
)
from .group import base_mul, mul, point_hex
from .randomness import DeterministicRandomness


def measure(ballots: int = 200, workers: int | None = None) -> dict[str, float]:
    """Scalar multiplications per second and 3-option ballot verifications per second, serial and parallel."""
    rng = DeterministicRandomness(b"bench")
    point = base_mul(rng.scalar())
    scalars = [rng.scalar() for _ in range(2000)]

    started = time.perf_counter()
    for k in scalars:
        mul(point, k)
    variable_base = len(scalars) / (time.perf_counter() - started)

    started = time.perf_counter()
    for k in scalars:
        base_mul(k)
    fixed_base = len(scalars) / (time.perf_counter() - started)

    poll = PollKey(
        poll_id="bench",
        public_key=point_hex(base_mul(rng.scalar())),
        rules=BallotRules(options=3, max_per_option=1, min_total=1, max_total=1),
    )
    cast: list[EncryptedBallot] = []
    started = time.perf_counter()
    for i in range(ballots):
        votes = [0, 0, 0]
        votes[i % 3] = 1
        cast.append(encrypt_ballot(poll, f"did:key:voter{i}", votes, rng))
    encrypt_rate = ballots / (time.perf_counter() - started)

    started = time.perf_counter()
    serial = verify_ballots(poll, cast)
    serial_rate = ballots / (time.perf_counter() - started)

    processes = workers or os.cpu_count() or 1
    started = time.perf_counter()
    parallel = verify_ballots_in_parallel(poll, cast, processes, chunk=max(1, ballots // (4 * processes)))
    parallel_rate = ballots / (time.perf_counter() - started)
    if not all(check.valid for check in serial + parallel):
        raise RuntimeError("an honest ballot failed verification")
    return {
        "variable_base_mul_per_s": variable_base,
        "fixed_base_mul_per_s": fixed_base,
        "ballot_encrypt_per_s": encrypt_rate,
        "ballot_verify_per_s": serial_rate,
        "ballot_verify_parallel_per_s": parallel_rate,
        "workers": float(processes),
    }


if __name__ == "__main__":
    for name, value in measure().items():
        print(f"{name}: {value:,.0f}")
