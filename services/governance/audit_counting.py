"""The auditor's own counting rules, written apart from the service's `domain/counting.py`.

Input: the poll's spec as recorded (a plain dict) and the counted choices; output: the fields an
auditor compares with the recorded result. `docs/formats/governance-audit.md` states the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

POSITIONS = {
    "proposal": ["agree", "abstain", "disagree", "block"],
    "consent": ["consent", "object"],
    "count": ["I'm in", "I'm out"],
}
MAX_TARGET = 100_000


def options_of(spec: dict[str, Any]) -> list[str]:
    return POSITIONS.get(spec["kind"], list(spec["options"]))


def choice_problem(spec: dict[str, Any], choice: Sequence[int]) -> str:
    """Why `choice` is not a valid open ballot of this poll (empty when it is)."""
    n, kind = len(options_of(spec)), spec["kind"]
    inside = all(isinstance(c, int) and 0 <= c < n for c in choice)
    distinct = len(set(choice)) == len(choice)
    if kind in ("proposal", "consent", "single", "count"):
        return "" if len(choice) == 1 and inside else "not exactly one option"
    if kind == "multiple":
        ok = inside and distinct and spec["min_choices"] <= len(choice) <= spec["max_choices"]
        return "" if ok else "not k distinct options within the allowed number"
    if kind == "ranked":
        return "" if choice and inside and distinct else "a ranking with repeated or unknown options"
    if len(choice) != n:
        return "not one value per option"
    if kind == "score":
        return "" if all(0 <= s <= spec["max_score"] for s in choice) else "a score outside 0..max_score"
    if kind == "meeting":
        return "" if all(a in (0, 1, 2) for a in choice) else "an answer to a time other than 0, 1 or 2"
    return "" if all(d >= 0 for d in choice) and sum(choice) <= spec["dots"] else "too many or negative dots"


def per_option(spec: dict[str, Any], choice: Sequence[int]) -> list[int]:
    n = len(options_of(spec))
    if spec["kind"] in ("score", "dot"):
        return list(choice)
    if spec["kind"] == "ranked":
        return [int(i == choice[0]) for i in range(n)]
    return [int(i in choice) for i in range(n)]


def meeting_outcome(
    spec: dict[str, Any], answers: list[list[int]], voters: int, eligible: int
) -> dict[str, Any]:
    """A meeting poll: per time, who can come (2) and who can if need be (1); the best time has the
    most who can come at all, then the most who can without "if need be", then comes first."""
    names = options_of(spec)
    quorum_met = voters * 100 >= spec["quorum_pct"] * eligible
    can = {name: [a[i] for a in answers].count(2) for i, name in enumerate(names)}
    if_need_be = {name: [a[i] for a in answers].count(1) for i, name in enumerate(names)}
    found: dict[str, Any] = {
        "quorum_met": quorum_met,
        "totals": {name: can[name] + if_need_be[name] for name in names},
        "availability": {
            name: {"yes": can[name], "maybe": if_need_be[name], "no": voters - can[name] - if_need_be[name]}
            for name in names
        },
    }
    score = {name: (can[name] + if_need_be[name], can[name]) for name in names}
    order = sorted(names, key=lambda name: (-score[name][0], -score[name][1], names.index(name)))
    found["ranking"] = order
    if not quorum_met:
        found["outcome"] = "no_quorum"
    elif score[order[0]][0] == 0:
        found["outcome"] = "no_votes"
    else:
        found["winners"] = [name for name in order if score[name] == score[order[0]]]
        found["outcome"] = "decided" if len(found["winners"]) == 1 else "tie"
    return found


def valid_target(spec: dict[str, Any]) -> bool:
    """Whether a count poll's recorded `target` is a whole number 1..100000."""
    target = spec.get("target")
    return type(target) is int and 1 <= target <= MAX_TARGET


def count_outcome(spec: dict[str, Any], opted_in: int, opted_out: int, quorum_met: bool) -> dict[str, Any]:
    """A count poll: it succeeds when at least `target` members are in (and the quorum is met)."""
    target = spec.get("target")
    reached = valid_target(spec) and opted_in >= int(target or 0)
    verdict = ("passed" if reached else "failed") if quorum_met else "no_quorum"
    return {"in": opted_in, "out": opted_out, "target": target, "reached": reached, "outcome": verdict}


def outcome(spec: dict[str, Any], totals: list[int], voters: int, eligible: int) -> dict[str, Any]:
    """Quorum, winners and outcome of every kind but ranked and meeting, from per-option totals."""
    names = options_of(spec)
    quorum_met = voters * 100 >= spec["quorum_pct"] * eligible
    found: dict[str, Any] = {"quorum_met": quorum_met, "totals": dict(zip(names, totals, strict=True))}
    kind, threshold = spec["kind"], spec["threshold_pct"]
    if kind == "proposal":
        agree, disagree, block = totals[0], totals[2], totals[3]
        if block and spec["block_fails"]:
            found["outcome"] = "blocked"
        elif not quorum_met:
            found["outcome"] = "no_quorum"
        else:
            found["outcome"] = "passed" if 100 * agree > threshold * (agree + disagree) else "failed"
        return found
    if kind == "consent":
        found["outcome"] = (
            "objected" if quorum_met and totals[1] else ("passed" if quorum_met else "no_quorum")
        )
        return found
    if kind == "count":
        return found | count_outcome(spec, totals[0], totals[1], quorum_met)
    top = max(totals)
    order = sorted(range(len(names)), key=lambda i: (-totals[i], i))
    if not quorum_met:
        found["outcome"] = "no_quorum"
    elif top == 0:
        found["outcome"] = "no_votes"
    elif kind == "multiple":
        found["winners"] = [names[i] for i in order if 100 * totals[i] > threshold * voters]
        found["outcome"] = "decided"
    else:
        leaders = [names[i] for i in order if totals[i] == top]
        if len(leaders) > 1:
            found["winners"], found["outcome"] = leaders, "tie"
        elif kind == "single" and 100 * top <= threshold * voters:
            found["winners"], found["outcome"] = [], "below_threshold"
        else:
            found["winners"], found["outcome"] = leaders, "decided"
    return found


def ranked_outcome(
    spec: dict[str, Any], rankings: list[list[int]], voters: int, eligible: int
) -> dict[str, Any]:
    names = options_of(spec)
    quorum_met = voters * 100 >= spec["quorum_pct"] * eligible
    found: dict[str, Any] = {"quorum_met": quorum_met}
    if not quorum_met:
        found["outcome"] = "no_quorum"
        return found
    if not rankings:
        found["outcome"] = "no_votes"
        return found
    if spec["method"] == "irv":
        winner = _runoff_winner(len(names), rankings)
        winners = [] if winner is None else [names[winner]]
    else:
        winners = [names[i] for i in _schulze_winners(len(names), rankings)]
    found["winners"] = winners
    found["outcome"] = "decided" if len(winners) == 1 else "tie"
    return found


def _runoff_winner(n: int, rankings: list[list[int]]) -> int | None:
    alive = list(range(n))
    history: list[dict[int, int]] = []
    while True:
        tally = dict.fromkeys(alive, 0)
        for ranking in rankings:
            for option in ranking:
                if option in tally:
                    tally[option] += 1
                    break
        history.append(tally)
        cast = sum(tally.values())
        best = max(tally.values())
        leader = min(i for i in alive if tally[i] == best)
        if cast and 2 * tally[leader] > cast:
            return leader
        if len(alive) == 1:
            return leader if cast else None
        worst = min(tally.values())
        last = [i for i in alive if tally[i] == worst]
        if len(last) == len(alive):
            return None
        # fewest votes in the earliest round where the tied options differ; then the highest index goes
        last.sort(key=lambda i: ([round_[i] for round_ in history], -i))
        alive.remove(last[0])


def _schulze_winners(n: int, rankings: list[list[int]]) -> list[int]:
    prefer = [[0] * n for _ in range(n)]
    for ranking in rankings:
        rank = {option: place for place, option in enumerate(ranking)}
        for a in range(n):
            for b in range(n):
                if a != b and rank.get(a, n) < rank.get(b, n):
                    prefer[a][b] += 1
    strength = [[prefer[a][b] if prefer[a][b] > prefer[b][a] else 0 for b in range(n)] for a in range(n)]
    for via in range(n):
        for a in range(n):
            for b in range(n):
                if len({a, b, via}) == 3:
                    strength[a][b] = max(strength[a][b], min(strength[a][via], strength[via][b]))
    return [a for a in range(n) if all(strength[a][b] >= strength[b][a] for b in range(n) if b != a)]
