"""Counting: per-option totals, instant-runoff and Schulze, quorum, thresholds and the outcome.

Pure functions of the counted ballots, so the service, the results view and any auditor get the
same answer from the same log (the auditor in `services.governance.audit` has its own code).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.governance.domain.rules import CAN, IF_NEED_BE, PollSpec

Result = dict[str, Any]


def result_of_totals(
    spec: PollSpec, totals: Sequence[int], voters: int, eligible: int, delegated: int
) -> Result:
    """The outcome of a poll counted as per-option totals (every kind but ranked and meeting).

    A count poll also reports `in` and `out` (its two totals), its `target`, and `reached` (in ≥
    target); it passes when the target is reached and the quorum met.
    """
    options = spec.choices
    result: Result = base(spec, voters, eligible, delegated)
    result["totals"] = dict(zip(options, totals, strict=True))
    quorum = result["quorum_met"]
    if spec.kind == "proposal":
        agree, _, disagree, block = totals
        if spec.block_fails and block:
            result["outcome"] = "blocked"
        elif not quorum:
            result["outcome"] = "no_quorum"
        else:
            passed = agree * 100 > spec.threshold_pct * (agree + disagree)
            result["outcome"] = "passed" if passed else "failed"
        return result
    if spec.kind == "consent":
        result["outcome"] = "no_quorum" if not quorum else ("objected" if totals[1] else "passed")
        return result
    if spec.kind == "count":
        ins, outs = totals
        reached = ins >= spec.count_target
        result.update({"in": ins, "out": outs, "target": spec.count_target, "reached": reached})
        result["outcome"] = "no_quorum" if not quorum else ("passed" if reached else "failed")
        return result
    if spec.kind == "score":
        result["averages"] = {
            o: round(t / voters, 3) if voters else 0.0 for o, t in zip(options, totals, strict=True)
        }
    ranking = sorted(range(len(options)), key=lambda i: (-totals[i], i))
    result["ranking"] = [options[i] for i in ranking]
    best = max(totals) if totals else 0
    leaders = [options[i] for i in ranking if totals[i] == best]
    if not quorum:
        result["outcome"] = "no_quorum"
    elif voters == 0 or best == 0:
        result["outcome"] = "no_votes"
    elif spec.kind == "multiple":
        needed = spec.threshold_pct * voters
        result["winners"] = [options[i] for i in ranking if totals[i] * 100 > needed]
        result["outcome"] = "decided"
    elif len(leaders) > 1:
        result["winners"] = leaders
        result["outcome"] = "tie"
    elif spec.kind == "single" and best * 100 <= spec.threshold_pct * voters:
        result["winners"] = []
        result["outcome"] = "below_threshold"
    else:
        result["winners"] = leaders
        result["outcome"] = "decided"
    return result


def result_of_rankings(
    spec: PollSpec, rankings: Sequence[Sequence[int]], voters: int, eligible: int, delegated: int
) -> Result:
    """The outcome of a ranked poll by instant runoff or Schulze (both reported, `method` decides)."""
    options = spec.choices
    result = base(spec, voters, eligible, delegated)
    rounds, irv_winner = instant_runoff(len(options), rankings)
    order, pairwise = schulze(len(options), rankings)
    result["first_preferences"] = dict(zip(options, rounds[0] if rounds else [], strict=False))
    result["rounds"] = [dict(zip(options, r, strict=True)) for r in rounds]
    result["pairwise"] = pairwise
    result["schulze_ranking"] = [[options[i] for i in tier] for tier in order]
    if not result["quorum_met"]:
        result["outcome"] = "no_quorum"
        return result
    if not rankings:
        result["outcome"] = "no_votes"
        return result
    if spec.method == "irv":
        winners = [options[irv_winner]] if irv_winner is not None else []
    else:
        winners = [options[i] for i in order[0]] if order else []
    result["winners"] = winners
    result["outcome"] = "decided" if len(winners) == 1 else "tie"
    return result


def result_of_availability(
    spec: PollSpec, answers: Sequence[Sequence[int]], voters: int, eligible: int, delegated: int
) -> Result:
    """A meeting poll's outcome: the time the most can come to at all, then the most without "if need be".

    `totals` counts who can come to each time (yes + if need be); `availability` splits them.
    Slots are ranked by that total, then by clear yeses, then by their order in the poll.
    """
    options = spec.choices
    yes = [sum(1 for a in answers if a[i] == CAN) for i in range(len(options))]
    maybe = [sum(1 for a in answers if a[i] == IF_NEED_BE) for i in range(len(options))]
    result = base(spec, voters, eligible, delegated)
    result["totals"] = {o: yes[i] + maybe[i] for i, o in enumerate(options)}
    result["availability"] = {
        o: {"yes": yes[i], "maybe": maybe[i], "no": voters - yes[i] - maybe[i]} for i, o in enumerate(options)
    }
    key = [(yes[i] + maybe[i], yes[i]) for i in range(len(options))]
    ranking = sorted(range(len(options)), key=lambda i: (-key[i][0], -key[i][1], i))
    result["ranking"] = [options[i] for i in ranking]
    best = key[ranking[0]]
    if not result["quorum_met"]:
        result["outcome"] = "no_quorum"
    elif best[0] == 0:
        result["outcome"] = "no_votes"
    else:
        result["winners"] = [options[i] for i in ranking if key[i] == best]
        result["outcome"] = "decided" if len(result["winners"]) == 1 else "tie"
    return result


def base(spec: PollSpec, voters: int, eligible: int, delegated: int) -> Result:
    quorum_met = voters * 100 >= spec.quorum_pct * eligible
    return {
        "kind": spec.kind,
        "voters": voters,
        "eligible": eligible,
        "delegated": delegated,
        "turnout_pct": round(100 * voters / eligible, 2) if eligible else 0.0,
        "quorum_pct": spec.quorum_pct,
        "quorum_met": quorum_met,
    }


def instant_runoff(n: int, rankings: Sequence[Sequence[int]]) -> tuple[list[list[int]], int | None]:
    """Rounds of first-preference counts among continuing options, and the winner (None on a full tie).

    Each round eliminates the option with the fewest votes; ties for last are broken by fewer votes in
    the earliest round where they differ, then by the lower index being kept.
    """
    continuing = set(range(n))
    rounds: list[list[int]] = []
    while continuing:
        counts = [0] * n
        for ranking in rankings:
            top = next((c for c in ranking if c in continuing), None)
            if top is not None:
                counts[top] += 1
        rounds.append(counts)
        active = sum(counts)
        leader = max(continuing, key=lambda i: (counts[i], -i))
        if active and counts[leader] * 2 > active:
            return rounds, leader
        if len(continuing) == 1:
            return rounds, leader if active else None
        lowest = min(counts[i] for i in continuing)
        tied = [i for i in continuing if counts[i] == lowest]
        if len(tied) == len(continuing):
            return rounds, None
        loser = min(tied, key=lambda i: ([r[i] for r in rounds], -i))
        continuing.discard(loser)
    return rounds, None


def schulze(n: int, rankings: Sequence[Sequence[int]]) -> tuple[list[list[int]], list[list[int]]]:
    """Schulze ranking (tiers of options, best first) and the pairwise preference matrix d[i][j].

    Options a ballot leaves unranked are all ranked below those it ranks, and equal to each other.
    """
    d = [[0] * n for _ in range(n)]
    for ranking in rankings:
        position = {c: p for p, c in enumerate(ranking)}
        for i in range(n):
            for j in range(n):
                if i != j and position.get(i, n) < position.get(j, n):
                    d[i][j] += 1
    p = [[d[i][j] if d[i][j] > d[j][i] else 0 for j in range(n)] for i in range(n)]
    for k in range(n):
        for i in range(n):
            if i == k:
                continue
            for j in range(n):
                if j not in (i, k):
                    p[i][j] = max(p[i][j], min(p[i][k], p[k][j]))
    remaining = list(range(n))
    tiers: list[list[int]] = []
    while remaining:
        tier = [i for i in remaining if all(p[i][j] >= p[j][i] for j in remaining if j != i)]
        tiers.append(tier)
        remaining = [i for i in remaining if i not in tier]
    return tiers, d
