"""Count polls (Loomio's "count"): members opt in or out, and the poll succeeds when at least
`target` are in. The spec's refusals, the count by the service and by the auditor's own code alike,
the auditor catching a tampered result, and an early close at the ballot that reaches the target."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest

from services.governance.audit import AuditReport, Entry, _Replay
from services.governance.audit_counting import choice_problem, options_of, outcome, per_option
from services.governance.domain.counting import result_of_totals
from services.governance.domain.events import REGISTRY, BallotCast
from services.governance.domain.rules import PollSpec
from services.governance.projections.ballots import BallotsView
from shared.domain import DomainError
from shared.eventcodec import EventCodec
from tests.unit.governance.test_meeting_polls import poll_created

COUNT: dict[str, Any] = {"kind": "count", "title": "Bulk order of flour", "target": 3}
ADA, BEA, CY, DI, EVE = (f"did:key:z6Mk{name}" for name in ("ada", "bea", "cy", "di", "eve"))
IN, OUT = [0], [1]


def spec(**fields: Any) -> PollSpec:
    return msgspec.convert(COUNT | fields, PollSpec).checked()


def refusal(fields: dict[str, Any]) -> DomainError:
    with pytest.raises(DomainError) as refused:
        msgspec.convert(fields, PollSpec).checked()
    return refused.value


def test_a_count_poll_has_fixed_positions_and_a_target_of_1_to_100000() -> None:
    s = spec()
    assert (s.choices, s.count_target) == (("I'm in", "I'm out"), 3)
    assert spec(target=1).count_target == 1
    assert spec(target=100_000).count_target == 100_000
    for fields, words in (
        ({"target": 0}, "target"),
        ({"target": -2}, "target"),
        ({"target": 100_001}, "target"),
        ({"target": msgspec.UNSET}, "needs a target"),
        ({"options": ["yes", "no"]}, "fixed positions"),
        ({"options": ["I'm in", "I'm out"]}, "give no options"),
    ):
        fields = COUNT | fields
        if fields["target"] is msgspec.UNSET:
            del fields["target"]
        refused = refusal(fields)
        assert refused.code == "invalid_poll", fields
        assert words in refused.message, fields
    # A target belongs to count polls only, and so does closing when it is reached.
    single = {"kind": "single", "title": "t", "options": ["a", "b"]}
    assert refusal(single | {"target": 5}).message == "target is for count polls"
    early = refusal(single | {"close_early": "target_reached"})
    assert (early.code, "for count polls" in early.message) == ("invalid_poll", True)
    assert spec(close_early="target_reached").close_early == "target_reached"
    assert spec(close_early="all_voted").close_early == "all_voted"
    # Not a number at all: the body does not decode, and says which field.
    with pytest.raises(msgspec.ValidationError, match=r"\$\.target"):
        msgspec.convert(COUNT | {"target": "ten"}, PollSpec)


def test_a_count_poll_is_never_secret() -> None:
    refused = refusal(COUNT | {"secret": {"trustees": [ADA], "threshold": 1}})
    assert refused.code == "secret_not_supported"
    assert "shows who is in" in refused.message


def test_a_choice_is_in_or_out() -> None:
    s = spec()
    assert (s.vector(IN), s.vector(OUT)) == ([1, 0], [0, 1])
    plain = msgspec.to_builtins(s)
    for wrong in ([], [2], [-1], [0, 1], [1, 1]):
        with pytest.raises(DomainError) as refused:
            s.vector(wrong)
        assert refused.value.code == "invalid_choice", wrong
        assert choice_problem(plain, wrong) != "", wrong
    assert choice_problem(plain, IN) == choice_problem(plain, OUT) == ""


def count(s: PollSpec, choices: list[list[int]], eligible: int = 10) -> dict[str, Any]:
    totals = [sum(column) for column in zip(*(s.vector(c) for c in choices), strict=True)] or [0, 0]
    return result_of_totals(s, totals, len(choices), eligible, 0)


def test_it_passes_when_the_ins_reach_the_target_and_the_quorum_is_met() -> None:
    s = spec()
    short = count(s, [IN, IN, OUT, OUT])
    assert {k: short[k] for k in ("in", "out", "target", "reached", "outcome")} == {
        "in": 2, "out": 2, "target": 3, "reached": False, "outcome": "failed",
    }  # fmt: skip
    assert short["totals"] == {"I'm in": 2, "I'm out": 2}
    assert (short["voters"], short["eligible"]) == (4, 10)
    exactly = count(s, [IN, IN, OUT, IN])
    assert (exactly["in"], exactly["reached"], exactly["outcome"]) == (3, True, "passed")
    more = count(s, [IN] * 5)
    assert (more["in"], more["out"], more["reached"], more["outcome"]) == (5, 0, True, "passed")
    nobody = count(s, [])
    assert (nobody["in"], nobody["reached"], nobody["outcome"]) == (0, False, "failed")
    assert "winners" not in nobody
    # Enough are in, but too few voted at all: no quorum, though `reached` says what happened.
    quorum = count(spec(quorum_pct=60), [IN, IN, IN])
    assert (quorum["reached"], quorum["quorum_met"], quorum["outcome"]) == (True, False, "no_quorum")


def test_service_and_auditor_count_the_same_on_random_polls() -> None:
    rng = random.Random("count")
    for trial in range(300):
        s = spec(target=rng.randint(1, 8), quorum_pct=rng.choice((0, 0, 30, 70)))
        plain = msgspec.to_builtins(s)
        choices = [[rng.randrange(2)] for _ in range(rng.randint(0, 9))]
        service = count(s, choices)
        columns = zip(*(per_option(plain, c) for c in choices), strict=True)
        auditor = outcome(plain, [sum(col) for col in columns] or [0, 0], len(choices), 10)
        assert set(auditor) >= {"in", "out", "target", "reached", "outcome", "totals", "quorum_met"}
        assert {k: service.get(k) for k in auditor} == auditor, (trial, choices)
    assert options_of(msgspec.to_builtins(spec())) == ["I'm in", "I'm out"]


def test_a_spec_without_a_target_keeps_its_bytes() -> None:
    """`target` was added to an existing event's spec: a spec that does not use it encodes exactly
    as before (UNSET is not written), so stored polls still round-trip."""
    codec = EventCodec(REGISTRY)
    created = poll_created(msgspec.convert({"kind": "single", "title": "t", "options": ["a", "b"]}, PollSpec))
    assert b"target" not in codec.encode(created)[1]
    counted = poll_created(spec())
    tag, data = codec.encode(counted)
    assert codec.decode(tag, data) == counted


def test_the_read_model_counts_the_latest_ballot_of_each_member() -> None:
    view = BallotsView()
    for n, (voter, choice) in enumerate(((ADA, IN), (BEA, IN), (ADA, OUT), (CY, IN)), start=1):
        cast = BallotCast(
            originator_id="acme.ballot.x", originator_version=n, occurred_ns=n, community="acme",
            poll="p1", voter=voter, cast_by=voter, choice=tuple(choice),
        )  # fmt: skip
        view.apply(cast, n * 1_000_000)
    ballots = view.poll("acme.poll.p1")
    assert (ballots.choosing(0), ballots.choosing(1)) == (2, 1)  # Ada changed her mind


# -- the auditor's replay of a count poll ------------------------------------------------------

ROLL = {"s1": {"members": frozenset({ADA, BEA, CY, DI, EVE}), "root": "r", "size": 5, "at_ns": 0}}


class Log:
    """A count poll's log as the auditor reads it (signatures are checked apart: none here)."""

    def __init__(self, **spec_fields: Any) -> None:
        # As recorded: every field of the spec (not checked, so a bad one can be recorded too).
        self.spec = msgspec.to_builtins(msgspec.convert(COUNT | spec_fields, PollSpec))
        self.entries: list[Entry] = []
        signed = self.statement(ADA, {"spec": self.spec})
        self.add("poll_created", "acme.poll.p1", community="acme", poll="p1", spec=self.spec, by=ADA,
                 closes_ns=10**12, proxy_limit=5, statement=signed)  # fmt: skip
        self.add("poll_opened", "acme.poll.p1", snapshot="s1", root="r", size=5, roll_at_ns=0)

    def statement(self, actor: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"actor": actor, "nonce": f"n{len(self.entries)}", "body": body}

    def add(self, tag: str, originator: str, **fields: Any) -> None:
        position = len(self.entries)
        tag = f"governance.{tag}.v1"
        self.entries.append(Entry("GOVERNANCE", position, position, tag, originator, fields))

    def vote(self, voter: str, choice: list[int]) -> None:
        body = {"poll": "p1", "choice": choice}
        self.add("ballot_cast", f"acme.ballot.p1-{voter[-3:]}", community="acme", poll="p1", voter=voter,
                 cast_by=voter, choice=choice, statement=self.statement(voter, body))  # fmt: skip

    def close(self, reason: str) -> None:
        by = ADA if reason == "by_author" else "governance-service"
        self.add("poll_closed", "acme.poll.p1", reason=reason, by=by)

    def results(self, **tampered: Any) -> None:
        s = msgspec.convert(self.spec, PollSpec)
        ballots: dict[str, list[int]] = {}
        for entry in self.entries:
            if entry.tag == "governance.ballot_cast.v1":
                ballots[entry.fields["voter"]] = entry.fields["choice"]
        choices = list(ballots.values())
        totals = [sum(column) for column in zip(*(s.vector(c) for c in choices), strict=True)] or [0, 0]
        result = result_of_totals(s, totals, len(choices), 5, 0)
        self.add("results_recorded", "acme.poll.p1", result=result | tampered)

    def audit(self) -> tuple[list[str], AuditReport]:
        report = AuditReport("acme")
        _Replay(report, "acme", ROLL).run(self.entries, {})
        return [f"{f.position}: {f.message}" for f in report.findings], report


def test_the_auditor_recounts_a_count_poll_and_agrees() -> None:
    log = Log()
    for voter, choice in ((ADA, IN), (BEA, OUT), (CY, IN), (BEA, IN), (DI, OUT)):
        log.vote(voter, choice)
    log.close("by_author")
    log.results()
    findings, report = log.audit()
    assert findings == []
    (poll,) = report.polls
    assert poll.recomputed is not None
    assert {k: poll.recomputed[k] for k in ("in", "out", "target", "reached", "outcome")} == {
        "in": 3, "out": 1, "target": 3, "reached": True, "outcome": "passed",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("tampered", "named"),
    [
        ({"in": 4}, "recorded in 4, recomputed 3"),
        ({"reached": False}, "recorded reached False, recomputed True"),
        ({"target": 2}, "recorded target 2, recomputed 3"),
        ({"outcome": "failed"}, "recorded outcome 'failed', recomputed 'passed'"),
        ({"totals": {"I'm in": 3, "I'm out": 2}}, "recorded totals"),
    ],
)
def test_the_auditor_names_a_tampered_count_result(tampered: dict[str, Any], named: str) -> None:
    log = Log()
    for voter, choice in ((ADA, IN), (BEA, IN), (CY, IN), (DI, OUT)):
        log.vote(voter, choice)
    log.close("by_author")
    log.results(**tampered)
    findings, _ = log.audit()
    assert len(findings) == 1, findings
    assert findings[0].startswith(f"{len(log.entries) - 1}: poll p1: {named}")


def test_a_close_at_the_target_is_accepted_only_once_enough_were_in() -> None:
    reached = Log(close_early="target_reached")
    for voter, choice in ((ADA, IN), (BEA, OUT), (CY, IN), (DI, IN)):
        reached.vote(voter, choice)
    reached.close("target_reached")
    reached.results()
    assert reached.audit()[0] == []

    # Closed "for the target" with two in of three: the close is a finding (the count stays right).
    early = Log(close_early="target_reached")
    for voter, choice in ((ADA, IN), (BEA, IN), (CY, OUT)):
        early.vote(voter, choice)
    early.close("target_reached")
    early.results()
    assert early.audit()[0] == ["5: poll p1 was closed for its target before enough members were in"]

    # Three were in once, then one changed her mind before the close commit: the target was
    # reached at a ballot before the close, which is what the service closes at.
    changed = Log(close_early="target_reached")
    for voter, choice in ((ADA, IN), (BEA, IN), (CY, IN), (CY, OUT)):
        changed.vote(voter, choice)
    changed.close("target_reached")
    changed.results()
    findings, report = changed.audit()
    assert findings == []
    assert report.polls[0].recomputed is not None
    assert report.polls[0].recomputed["reached"] is False

    # A poll that does not close at its target cannot be closed for it.
    never = Log()
    for voter in (ADA, BEA, CY):
        never.vote(voter, IN)
    never.close("target_reached")
    never.results()
    assert never.audit()[0] == ["5: poll p1 was closed for a target it does not close at"]


def test_the_auditor_flags_a_count_poll_recorded_without_a_valid_target() -> None:
    log = Log(target=0)
    assert log.audit()[0] == ["0: poll p1: a count poll needs a target, a whole number 1..100000"]


def test_the_auditors_text_report_names_a_count_polls_target_and_whether_it_was_reached(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cos.audits.governance import print_report
    from services.governance.audit import AuditReport, PollReport

    recomputed = {"totals": {"I'm in": 3, "I'm out": 1}, "in": 3, "target": 3, "reached": True}
    poll = PollReport(
        "flour", "count", False, 5, 4, 0, recomputed | {"quorum_met": True, "outcome": "passed"}
    )
    poll.status = "closed"
    print_report(AuditReport("river", {"GOVERNANCE": 9}, polls=[poll]), 0.01)
    printed = capsys.readouterr().out
    assert "poll flour (count, open): closed" in printed
    assert "  target: 3\n  reached: True\n" in printed
    assert "  outcome: passed" in printed
