"""Counting rules: the service's counting and the auditor's independent code agree, kind by kind."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from services.governance.audit_counting import choice_problem, outcome, per_option, ranked_outcome
from services.governance.domain.counting import instant_runoff, result_of_rankings, result_of_totals, schulze
from services.governance.domain.rules import PollSpec
from shared.domain import DomainError

KINDS: list[dict[str, Any]] = [
    {"kind": "proposal", "title": "p", "quorum_pct": 30},
    {"kind": "consent", "title": "c"},
    {"kind": "single", "title": "s", "options": ["a", "b", "c"], "threshold_pct": 0},
    {"kind": "single", "title": "s", "options": ["a", "b", "c"], "threshold_pct": 50},
    {"kind": "multiple", "title": "m", "options": ["a", "b", "c", "d"], "min_choices": 1, "max_choices": 2},
    {"kind": "score", "title": "x", "options": ["a", "b", "c"], "max_score": 5},
    {"kind": "dot", "title": "d", "options": ["a", "b", "c"], "dots": 4},
]


def random_choice(spec: PollSpec, rng: random.Random) -> list[int]:
    n = len(spec.choices)
    if spec.kind in ("proposal", "consent", "single"):
        return [rng.randrange(n)]
    if spec.kind == "multiple":
        return rng.sample(range(n), rng.randint(spec.min_choices, spec.max_choices))
    if spec.kind == "ranked":
        return rng.sample(range(n), rng.randint(1, n))
    if spec.kind == "score":
        return [rng.randint(0, spec.max_score) for _ in range(n)]
    dots = [0] * n
    for _ in range(rng.randint(0, spec.dots)):
        dots[rng.randrange(n)] += 1
    return dots


@pytest.mark.parametrize("fields", KINDS, ids=lambda f: f"{f['kind']}-{f.get('threshold_pct', '')}")
def test_service_and_auditor_reach_the_same_outcome_on_random_polls(fields: dict[str, Any]) -> None:
    spec = msgspec.convert(fields, PollSpec).checked()
    plain = msgspec.to_builtins(spec)
    rng = random.Random(fields["kind"])
    for trial in range(200):
        voters = rng.randint(0, 9)
        choices = [random_choice(spec, rng) for _ in range(voters)]
        totals = [sum(col) for col in zip(*(spec.vector(c) for c in choices), strict=True)] or [0] * len(
            spec.choices
        )
        service = result_of_totals(spec, totals, voters, 10, 0)
        audit_totals = [sum(col) for col in zip(*(per_option(plain, c) for c in choices), strict=True)]
        auditor = outcome(plain, audit_totals or [0] * len(spec.choices), voters, 10)
        assert {k: service.get(k) for k in auditor} == auditor, (trial, choices)


@pytest.mark.parametrize("method", ["irv", "schulze"])
def test_ranked_polls_agree_between_service_and_auditor(method: str) -> None:
    fields = {"kind": "ranked", "title": "r", "options": ["a", "b", "c", "d"], "method": method}
    spec = msgspec.convert(fields, PollSpec).checked()
    plain = msgspec.to_builtins(spec)
    rng = random.Random(method)
    for trial in range(300):
        rankings = [random_choice(spec, rng) for _ in range(rng.randint(0, 12))]
        service = result_of_rankings(spec, rankings, len(rankings), 12, 0)
        auditor = ranked_outcome(plain, rankings, len(rankings), 12)
        assert {k: service.get(k) for k in auditor} == auditor, (trial, rankings)


def test_instant_runoff_eliminates_the_weakest_and_breaks_ties_by_earlier_rounds() -> None:
    # round 1: a 3, b 2, c 2, d 1 -> d out; round 2: a 3, b 3, c 2 -> c out; round 3: b wins 5 of 8
    rankings = [[0], [0], [0], [1], [1], [2, 1], [2, 1], [3, 1]]
    rounds, winner = instant_runoff(4, rankings)
    assert rounds == [[3, 2, 2, 1], [3, 3, 2, 0], [3, 5, 0, 0]]
    assert winner == 1
    # b and c tie for last in round 2 but c had fewer votes in round 1, so c goes
    rounds, winner = instant_runoff(3, [[0], [0], [0], [1], [1], [2], [2, 1], [1]])
    assert (rounds[0], winner) == ([3, 3, 2], 1)


def test_schulze_finds_the_condorcet_winner_and_ranks_the_rest() -> None:
    # the classic Schulze example (Wikipedia, 45 voters, A..E): the ranking is E > A > C > B > D
    groups = [(5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"), (7, "CAEBD"), (2, "CBADE"),
              (7, "DCEBA"), (8, "EBADC")]  # fmt: skip
    rankings = [[ord(c) - ord("A") for c in order] for count, order in groups for _ in range(count)]
    tiers, d = schulze(5, rankings)
    assert [["ABCDE"[i] for i in tier] for tier in tiers] == [["E"], ["A"], ["C"], ["B"], ["D"]]
    assert d[0][1] == 20


@pytest.mark.parametrize(
    ("fields", "choice"),
    [
        ({"kind": "ranked", "options": ["a", "b"]}, [0, 0]),
        ({"kind": "ranked", "options": ["a", "b"]}, []),
        ({"kind": "single", "options": ["a", "b"]}, [0, 1]),
        ({"kind": "multiple", "options": ["a", "b", "c"], "max_choices": 2}, [0, 1, 2]),
        ({"kind": "score", "options": ["a", "b"]}, [6, 0]),
        ({"kind": "dot", "options": ["a", "b"], "dots": 3}, [2, 2]),
        ({"kind": "dot", "options": ["a", "b"], "dots": 3}, [-1, 2]),
    ],
)
def test_bad_choices_are_refused_by_the_service_and_flagged_by_the_auditor(
    fields: dict[str, Any], choice: list[int]
) -> None:
    spec = msgspec.convert({"title": "t"} | fields, PollSpec).checked()
    with pytest.raises(DomainError) as refused:
        spec.vector(choice)
    assert refused.value.code == "invalid_choice"
    assert choice_problem(msgspec.to_builtins(spec), choice)
