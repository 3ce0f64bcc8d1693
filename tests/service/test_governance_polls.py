"""Decide at the service layer: every poll kind, the committed roll, replacement, closing, outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.governance.domain.commands import CommunityQuery, PollQuery
from services.governance.domain.events import BallotCast
from services.governance.domain.merkle import roll_root
from services.governance.domain.poll import HOUR_NS
from shared.commands import CommandRejected
from shared.domain import DomainError
from shared.statements import verify_statement
from shared.trust.member_keys import MemberKeys

from .test_governance_support import World, in_hours, world
from .test_membership_support import admitted_member

PROPOSAL = {"kind": "proposal", "title": "Buy the bakery", "threshold_pct": 50}


async def test_a_proposal_opens_on_the_committed_roll_and_the_latest_ballot_of_each_member_counts() -> None:
    w = await world(4)
    opened = await w.poll(w.admin, PROPOSAL)
    roll = opened["roll"]
    eligible = sorted([w.admin.did, *(m.did for m in w.members)])
    assert (roll["size"], roll["root"]) == (5, roll_root(eligible))
    poll = opened["poll"]
    await w.vote(w.members[0], poll, [2])  # disagree ...
    replaced = await w.vote(w.members[0], poll, [0])  # ... then agree: the later ballot replaces
    assert replaced["replaced"] is True
    await w.vote(w.members[1], poll, [0])
    await w.vote(w.members[2], poll, [2])
    await w.vote(w.members[3], poll, [1])

    live = await w.governance.results(PollQuery(w.community, poll))
    assert (live["voted"], live["eligible"], live["turnout_pct"], live["result"]) == (4, 5, 80.0, None)
    closed = await w.act(w.admin, "close_poll", {"poll": poll})
    result = closed["result"]
    assert result["totals"] == {"agree": 2, "abstain": 1, "disagree": 1, "block": 0}
    assert (result["voters"], result["outcome"]) == (4, "passed")
    history = w.governance.app.history(f"{w.community}.ballot.{poll}-" + _voter_hash(w.members[0].did))
    assert [e.choice for e in history if isinstance(e, BallotCast)] == [
        (2,),
        (0,),
    ]  # both ballots stay in the log


def _voter_hash(did: str) -> str:
    import hashlib

    return hashlib.sha256(did.encode()).hexdigest()[:40]


async def test_a_single_block_blocks_a_proposal_and_an_objection_stops_a_consent_poll() -> None:
    w = await world(3)
    proposal = (await w.poll(w.admin, PROPOSAL))["poll"]
    for member in w.members[:2]:
        await w.vote(member, proposal, [0])
    await w.vote(w.members[2], proposal, [3])
    assert (await w.act(w.admin, "close_poll", {"poll": proposal}))["result"]["outcome"] == "blocked"

    consent = (await w.poll(w.admin, {"kind": "consent", "title": "New hours"}))["poll"]
    await w.vote(w.members[0], consent, [0])
    await w.vote(w.members[1], consent, [1])
    result = (await w.act(w.admin, "close_poll", {"poll": consent}))["result"]
    assert (result["totals"], result["outcome"]) == ({"consent": 1, "object": 1}, "objected")


async def test_quorum_is_a_share_of_the_eligible_members() -> None:
    w = await world(4)
    poll = (await w.poll(w.admin, PROPOSAL | {"quorum_pct": 50}))["poll"]
    await w.vote(w.members[0], poll, [0])
    await w.vote(w.members[1], poll, [0])  # 2 of 5 = 40 %
    result = (await w.act(w.admin, "close_poll", {"poll": poll}))["result"]
    assert (result["quorum_met"], result["outcome"]) == (False, "no_quorum")


@pytest.mark.parametrize(
    ("spec", "choices", "expected"),
    [
        ({"kind": "single", "options": ["red", "blue", "green"], "threshold_pct": 0}, [[1], [1], [0], [2]],
         {"totals": {"red": 1, "blue": 2, "green": 1}, "winners": ["blue"], "outcome": "decided"}),
        ({"kind": "multiple", "options": ["a", "b", "c", "d"], "max_choices": 2, "threshold_pct": 49},
         [[0, 1], [1], [1, 3], [0, 2]],
         {"totals": {"a": 2, "b": 3, "c": 1, "d": 1}, "winners": ["b", "a"]}),
        ({"kind": "score", "options": ["x", "y"]}, [[5, 1], [4, 2], [0, 5], [3, 3]],
         {"totals": {"x": 12, "y": 11}, "averages": {"x": 3.0, "y": 2.75}, "winners": ["x"]}),
        ({"kind": "dot", "options": ["p", "q", "r"], "dots": 5}, [[5, 0, 0], [0, 3, 2], [1, 1, 1], [0, 0, 4]],
         {"totals": {"p": 6, "q": 4, "r": 7}, "winners": ["r"]}),
    ],
)  # fmt: skip
async def test_each_kind_counts_its_own_way(
    spec: dict[str, object], choices: list[list[int]], expected: dict[str, object]
) -> None:
    w = await world(4)
    poll = (await w.poll(w.admin, {"title": "Choose"} | spec))["poll"]
    for member, choice in zip(w.members, choices, strict=True):
        await w.vote(member, poll, choice)
    result = (await w.act(w.admin, "close_poll", {"poll": poll}))["result"]
    assert {key: result[key] for key in expected} == expected


async def test_ranked_choice_by_instant_runoff_and_by_schulze() -> None:
    # A and B tie on first preferences; C is eliminated and A wins the runoff, yet C beats both head to head.
    rankings = [[0, 2, 1], [0, 2, 1], [1, 2, 0], [1, 2, 0], [2, 0, 1]]
    outcomes = {}
    for method in ("irv", "schulze"):
        w = await world(4)
        spec = {"kind": "ranked", "title": "Chair", "options": ["A", "B", "C"], "method": method}
        poll = (await w.poll(w.admin, spec))["poll"]
        for member, ranking in zip([w.admin, *w.members], rankings, strict=True):
            await w.vote(member, poll, ranking)
        outcomes[method] = (await w.act(w.admin, "close_poll", {"poll": poll}))["result"]
    irv = outcomes["irv"]
    assert irv["rounds"] == [{"A": 2, "B": 2, "C": 1}, {"A": 3, "B": 2, "C": 0}]
    assert irv["winners"] == ["A"]
    schulze = outcomes["schulze"]
    assert schulze["pairwise"] == [[0, 3, 2], [2, 0, 2], [3, 3, 0]]
    assert (schulze["winners"], schulze["schulze_ranking"]) == (["C"], [["C"], ["A"], ["B"]])


async def test_bad_ballots_are_refused_with_a_reason_and_nothing_is_recorded() -> None:
    w = await world(2)
    ranked = (await w.poll(w.admin, {"kind": "ranked", "title": "R", "options": ["a", "b", "c"]}))["poll"]
    with pytest.raises(DomainError) as duplicate:
        await w.vote(w.members[0], ranked, [0, 0, 1])
    assert duplicate.value.code == "invalid_choice"
    single = (await w.poll(w.admin, {"kind": "single", "title": "S", "options": ["a", "b"]}))["poll"]
    with pytest.raises(DomainError) as out_of_range:
        await w.vote(w.members[0], single, [2])
    assert out_of_range.value.code == "invalid_choice"

    newcomer = await _late_member(w)  # admitted after the roll was committed
    with pytest.raises(DomainError) as late:
        await w.vote(newcomer, single, [0])
    assert (late.value.code, late.value.status) == ("not_eligible", 403)

    ballot = w.signed(w.members[0], "cast_ballot", {"poll": single, "choice": [0]})
    await w.governance.cast_ballot(ballot)
    with pytest.raises(CommandRejected) as replayed:
        await w.governance.cast_ballot(ballot)
    assert replayed.value.type == "statement_replayed"

    await w.act(w.admin, "close_poll", {"poll": single})
    with pytest.raises(DomainError) as after_close:
        await w.vote(w.members[1], single, [1])
    assert after_close.value.code == "poll_closed"
    result = (await w.governance.results(PollQuery(w.community, single)))["result"]
    assert (result["voters"], result["totals"]) == (1, {"a": 1, "b": 0})


async def _late_member(w: World) -> MemberKeys:
    return await admitted_member(w.membership, w.community, w.admin, "Late")


async def test_a_poll_closes_early_when_everyone_voted_and_its_author_states_the_outcome() -> None:
    w = await world(2)
    poll = (await w.poll(w.admin, PROPOSAL | {"close_early": "all_voted"}))["poll"]
    for member in [w.admin, *w.members]:
        answer = await w.vote(member, poll, [0])
    assert answer["closed"] == "all_voted"
    with pytest.raises(DomainError) as not_author:
        await w.act(w.members[0], "state_outcome", {"poll": poll, "text": "We buy it."})
    assert not_author.value.code == "not_the_author"
    stated = await w.act(w.admin, "state_outcome", {"poll": poll, "text": "We buy the bakery in May."})
    assert (stated["status"], stated["outcome"]) == ("decided", "We buy the bakery in May.")
    kinds = [notice["kind"] for _, notice in w.notices.sent]
    assert kinds == ["poll_opened", "poll_closed", "outcome_stated"]  # the outcome reaches the roll too


async def test_the_scheduler_opens_on_time_reminds_those_who_have_not_voted_and_closes_at_close_time() -> (
    None
):
    w = await world(2)
    created = await w.poll(
        w.admin, PROPOSAL | {"reminders_h": [2]}, opens_at=in_hours(1), closes_at=in_hours(10)
    )
    assert (created["status"], created["roll"]) == ("created", None)
    real = w.governance.clock
    start = real()
    w.governance.clock = lambda: start + 1 * HOUR_NS + 10**9
    await w.governance.tick()
    w.governance.clock = real
    poll = created["poll"]
    assert (await w.governance.get_poll(PollQuery(w.community, poll)))["status"] == "open"
    await w.vote(w.members[0], poll, [0])
    w.governance.clock = lambda: start + 8 * HOUR_NS + 10**9
    await w.governance.tick()
    await w.governance.tick()  # a reminder goes out once
    w.governance.clock = lambda: start + 10 * HOUR_NS + 10**9
    await w.governance.tick()
    sent = [(n["kind"], sorted(n["recipients"])) for _, n in w.notices.sent]
    waiting = sorted([w.admin.did, w.members[1].did])
    assert [kind for kind, _ in sent] == ["poll_opened", "reminder", "poll_closed"]
    assert sent[1][1] == waiting
    final = await w.governance.get_poll(PollQuery(w.community, poll))
    assert (final["status"], final["result"]["voters"]) == ("decided", 1)


async def test_invalid_polls_are_refused() -> None:
    w = await world(1)
    with pytest.raises(DomainError) as few_options:
        await w.poll(w.admin, {"kind": "single", "title": "S", "options": ["only"]})
    assert few_options.value.code == "invalid_poll"
    spec = {"kind": "ranked", "title": "R", "options": ["a", "b"],
                "secret": {"trustees": [w.admin.did], "threshold": 1}}  # fmt: skip
    with pytest.raises(DomainError) as secret_ranked:
        await w.poll(w.admin, spec)
    assert secret_ranked.value.code == "secret_not_supported"


async def test_each_member_gives_her_reason_with_her_vote_and_the_board_shows_who_has_not_voted() -> None:
    w = await world(3)
    ann, bo, cy = w.members
    poll = (await w.poll(w.admin, {"kind": "proposal", "title": "Open on Sundays"}))["poll"]
    board = await w.governance.board(PollQuery(w.community, poll))
    assert board["ballots"] == []
    assert board["not_voted"] == sorted(m.did for m in (w.admin, ann, bo, cy))

    await w.vote(ann, poll, [0], reason="  More shoppers come at weekends.  ")
    await w.vote(bo, poll, [2])
    await w.vote(bo, poll, [3], reason="Staff need a day off.")  # she changes her mind, and says why
    board = await w.governance.board(PollQuery(w.community, poll))
    stances = {b["voter"]: (b["choice"], b["reason"]) for b in board["ballots"]}
    assert stances == {
        ann.did: ([0], "More shoppers come at weekends."),
        bo.did: ([3], "Staff need a day off."),
    }
    assert all(b["at"].endswith("Z") for b in board["ballots"])
    assert board["not_voted"] == sorted([w.admin.did, cy.did])

    # The reason is part of what she signed: the ballot event keeps her statement verbatim, and
    # both of her ballots stay in the log, each with its own reason (none, then one).
    history = w.governance.app.history(f"{w.community}.ballot.{poll}-" + _voter_hash(bo.did))
    signed = [e.statement for e in history if isinstance(e, BallotCast)]
    assert [s["body"].get("reason") for s in signed if s] == [None, "Staff need a day off."]
    verify_statement(
        signed[-1], action="governance.cast_ballot", community=w.community, now=datetime.now(UTC)
    )

    with pytest.raises(DomainError) as too_long:
        await w.vote(cy, poll, [1], reason="x" * 2001)
    assert too_long.value.code == "invalid_reason"
    assert (await w.governance.board(PollQuery(w.community, poll)))["not_voted"] == sorted(
        [w.admin.did, cy.did]
    )


async def test_its_author_extends_an_open_poll_and_it_closes_and_reminds_at_the_new_time() -> None:
    w = await world(2)
    created = await w.poll(w.admin, PROPOSAL | {"reminders_h": [2]}, closes_at=in_hours(10))
    poll = created["poll"]
    real = w.governance.clock
    start = real()

    for who, closes_at, code in (
        (w.members[0], in_hours(20), "not_the_author"),
        (w.admin, in_hours(5), "invalid_extension"),  # earlier: that is closing it now
        (w.admin, in_hours(24 * 400), "invalid_extension"),
    ):
        with pytest.raises(DomainError) as refused:
            await w.act(who, "extend_poll", {"poll": poll, "closes_at": closes_at})
        assert refused.value.code == code
    extended = await w.act(w.admin, "extend_poll", {"poll": poll, "closes_at": in_hours(20)})
    assert extended["closes_at"] > created["closes_at"]
    listed = (await w.governance.list_polls(CommunityQuery(w.community)))["polls"]
    assert [p["closes_at"] for p in listed if p["poll"] == poll] == [extended["closes_at"]]

    # The old close time passes and the poll stays open; the reminder follows the new close (two
    # hours before it), and the poll closes then.
    await w.vote(w.members[0], poll, [0])
    w.governance.clock = lambda: start + 11 * HOUR_NS
    await w.governance.tick()
    assert (await w.governance.get_poll(PollQuery(w.community, poll)))["status"] == "open"
    w.governance.clock = lambda: start + 18 * HOUR_NS + 10**9
    await w.governance.tick()
    w.governance.clock = lambda: start + 20 * HOUR_NS + 10**9
    await w.governance.tick()
    w.governance.clock = real
    sent = [n["kind"] for _, n in w.notices.sent]
    assert sent == ["poll_opened", "reminder", "poll_closed"]
    final = await w.governance.get_poll(PollQuery(w.community, poll))
    assert (final["status"], final["result"]["voters"]) == ("decided", 1)
    with pytest.raises(DomainError) as closed:
        await w.act(w.admin, "extend_poll", {"poll": poll, "closes_at": in_hours(30)})
    assert closed.value.code == "poll_closed"
