"""The conflict policy every signed command shares (`shared/retry.py`): a command that lost an
optimistic-concurrency race before recording anything is decided again on fresh state, its
statement verified once; one that recorded a step is not run twice; endless races end as `busy`."""

from __future__ import annotations

import pytest

from shared.retry import MAX_ATTEMPTS, Busy, Conflict, remember, remembered, retrying, saved
from shared.statements import VerifiedStatement


def _statement(nonce: str) -> VerifiedStatement:
    return VerifiedStatement("did:key:zBea", "governance.cast_ballot", "acme", nonce, {}, {})


async def test_a_lost_race_is_decided_again_with_the_statement_verified_once() -> None:
    verifications: list[str] = []
    attempts: list[int] = []

    async def command() -> str:
        if (statement := remembered("cast_ballot")) is None:  # what `verified` does
            statement = _statement(f"n{len(verifications)}")
            verifications.append(statement.nonce)
            remember("cast_ballot", statement)
        attempts.append(1)
        if len(attempts) < 3:
            raise Conflict("conflict", "changed concurrently")
        saved()
        return statement.nonce

    assert await retrying(command) == "n0"
    assert (len(attempts), verifications) == (3, ["n0"])
    assert remembered("cast_ballot") is None  # nothing leaks past the command


async def test_a_command_that_recorded_a_step_is_not_run_again() -> None:
    runs: list[int] = []

    async def close_then_count() -> None:
        runs.append(1)
        saved()  # the close is recorded ...
        raise Conflict("conflict", "changed concurrently")  # ... the count lost a race

    with pytest.raises(Conflict) as refused:
        await retrying(close_then_count)
    assert (refused.value.code, len(runs)) == ("conflict", 1)


async def test_endless_races_are_refused_as_busy_after_every_attempt() -> None:
    runs: list[int] = []

    async def always_late() -> None:
        runs.append(1)
        raise Conflict("conflict", "changed concurrently")

    with pytest.raises(Busy) as refused:
        await retrying(always_late)
    assert (refused.value.code, refused.value.status, len(runs)) == ("busy", 503, MAX_ATTEMPTS)


async def test_other_refusals_pass_through_at_once() -> None:
    runs: list[int] = []

    async def refused() -> None:
        runs.append(1)
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await retrying(refused)
    assert runs == [1]
