"""Meeting polls (Loomio's time poll): times as RFC 3339 instants, three answers per time, the best
time counted by the service and by the auditor's own code alike, the outcome that fixes the
meeting, and the calendar file that carries it."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from icalendar import Calendar

from services.governance.audit import AuditReport, Entry, _Replay
from services.governance.audit_counting import choice_problem, meeting_outcome
from services.governance.domain.counting import result_of_availability
from services.governance.domain.events import REGISTRY, OutcomeStated, PollCreated
from services.governance.domain.poll import Poll
from services.governance.domain.rules import PollSpec
from shared.calendar import meeting_ics
from shared.domain import DomainError
from shared.eventcodec import EventCodec

TIMES = ("2026-12-03T17:00:00Z", "2026-12-04T09:30:00+01:00", "2026-12-05T18:00:00-05:00")
MEETING: dict[str, Any] = {"kind": "meeting", "title": "Board meeting", "options": list(TIMES)}
ADA, BEA = "did:key:z6Mkada", "did:key:z6Mkbea"


def spec(**fields: Any) -> PollSpec:
    return msgspec.convert(MEETING | fields, PollSpec).checked()


def test_a_meeting_poll_takes_times_with_their_offset_and_a_length() -> None:
    assert spec().meeting_minutes == 60
    assert spec(duration_min=90).meeting_minutes == 90
    for options, wrong in (
        (["2026-12-03T17:00:00", "2026-12-04T17:00:00Z"], "offset"),  # no offset: whose 17:00?
        (["tomorrow", "2026-12-04T17:00:00Z"], "offset"),
        (["2026-12-03", "2026-12-04T17:00:00Z"], "offset"),  # a day is not a time
        (["2026-12-03T17:00:00Z", "2026-12-03T18:00:00+01:00"], "same instant"),
    ):
        with pytest.raises(DomainError, match=wrong) as refused:
            spec(options=options)
        assert refused.value.code == "invalid_poll"
    for minutes in (4, 1441):
        with pytest.raises(DomainError, match=r"5\.\.1440 minutes"):
            spec(duration_min=minutes)
    with pytest.raises(DomainError, match="for meeting polls"):
        msgspec.convert(
            {"kind": "single", "title": "t", "options": ["a", "b"], "duration_min": 30}, PollSpec
        ).checked()
    with pytest.raises(DomainError) as secret:
        spec(secret={"trustees": [ADA], "threshold": 1})
    assert secret.value.code == "secret_not_supported"


def test_each_time_is_answered_can_if_need_be_or_cannot() -> None:
    s = spec()
    assert s.vector([2, 1, 0]) == [1, 1, 0]  # who can come at all
    for wrong in ([2, 1], [3, 0, 0], [-1, 0, 0], [2, 2, 2, 2]):
        with pytest.raises(DomainError) as refused:
            s.vector(wrong)
        assert refused.value.code == "invalid_choice"
    plain = msgspec.to_builtins(s)
    assert choice_problem(plain, [2, 1, 0]) == ""
    assert choice_problem(plain, [2, 3, 0]) != ""


def test_the_best_time_is_the_one_most_can_come_to_then_the_one_fewest_need_to_stretch_for() -> None:
    s = spec()
    # 12-03: 2 yes + 1 if need be = 3; 12-04: 3 yes = 3, so more clear yeses wins; 12-05: 1.
    answers = [[2, 2, 0], [2, 2, 1], [1, 2, 0]]
    result = result_of_availability(s, answers, 3, 5, 0)
    assert result["totals"] == {TIMES[0]: 3, TIMES[1]: 3, TIMES[2]: 1}
    assert result["availability"][TIMES[0]] == {"yes": 2, "maybe": 1, "no": 0}
    assert result["availability"][TIMES[2]] == {"yes": 0, "maybe": 1, "no": 2}
    assert (result["winners"], result["outcome"]) == ([TIMES[1]], "decided")
    assert result["ranking"] == [TIMES[1], TIMES[0], TIMES[2]]
    tie = result_of_availability(s, [[2, 2, 0]], 1, 5, 0)
    assert (tie["winners"], tie["outcome"]) == ([TIMES[0], TIMES[1]], "tie")
    nobody = result_of_availability(s, [[0, 0, 0]], 1, 5, 0)
    assert nobody["outcome"] == "no_votes"
    assert "winners" not in nobody
    assert result_of_availability(spec(quorum_pct=80), answers, 3, 5, 0)["outcome"] == "no_quorum"


def test_service_and_auditor_pick_the_same_time_on_random_polls() -> None:
    s, rng = spec(quorum_pct=20), random.Random(7)
    plain = msgspec.to_builtins(s)
    for trial in range(300):
        voters = rng.randint(0, 8)
        answers = [[rng.choice((0, 0, 1, 2)) for _ in TIMES] for _ in range(voters)]
        service = result_of_availability(s, answers, voters, 8, 0)
        auditor = meeting_outcome(plain, answers, voters, 8)
        assert {k: service.get(k) for k in auditor} == auditor, (trial, answers)


def poll_created(kind_spec: PollSpec) -> PollCreated:
    """A recorded poll of `kind_spec` (for checking what its stored bytes hold)."""
    return PollCreated(
        originator_id="c.poll.p", originator_version=1, occurred_ns=1, community="c", poll="p",
        spec=kind_spec, opens_ns=1, closes_ns=2, proxy_limit=5, by=ADA,
    )  # fmt: skip


def test_a_spec_without_a_length_and_an_outcome_without_a_time_keep_their_bytes() -> None:
    """The fields were added to existing event versions: events that do not use them must encode
    exactly as before (UNSET is not written), or stored logs would no longer round-trip."""
    codec = EventCodec(REGISTRY)
    created = poll_created(msgspec.convert({"kind": "single", "title": "t", "options": ["a", "b"]}, PollSpec))
    assert b"duration_min" not in codec.encode(created)[1]
    plain = OutcomeStated(originator_id="c.poll.p", originator_version=9, occurred_ns=1, text="Done", by=ADA)
    data = codec.encode(plain)[1]
    assert b"slot" not in data
    assert b"location" not in data
    assert codec.decode("governance.outcome_stated.v1", data) == plain


def poll_of(kind_spec: PollSpec) -> Poll:
    poll = Poll("c.poll.p")
    poll.spec, poll.author, poll.result = kind_spec, ADA, {"outcome": "decided"}
    return poll


def test_the_outcome_of_a_meeting_poll_fixes_one_of_its_times_and_where() -> None:
    poll = poll_of(spec(duration_min=90))
    assert poll.meeting() is None
    poll.state_outcome("We meet on Friday.", ADA, None, 5, slot=1, location="Room 2, Town hall")
    assert poll.meeting() == {
        "start": TIMES[1], "end": "2026-12-04T11:00:00+01:00", "location": "Room 2, Town hall",
    }  # fmt: skip
    assert (poll.meeting_revision, poll.meeting_fixed_ns) == (0, 5)
    poll.state_outcome("Moved to Thursday.", ADA, None, 9, slot=0)
    assert poll.meeting() == {"start": TIMES[0], "end": "2026-12-03T18:30:00Z", "location": ""}
    assert poll.meeting_revision == 1  # a calendar replaces the first version with this one
    for slot, location, why in (
        (3, "", "index"),
        (-1, "", "index"),
        (0, "a\nb", "one line"),
        (0, "x" * 301, "one line"),
    ):
        with pytest.raises(DomainError, match=why):
            poll.state_outcome("t", ADA, None, 10, slot=slot, location=location)
    with pytest.raises(DomainError, match="goes with the meeting's time"):
        poll.state_outcome("t", ADA, None, 10, location="Hall")
    other = poll_of(msgspec.convert({"kind": "single", "title": "t", "options": ["a", "b"]}, PollSpec))
    with pytest.raises(DomainError, match="only a meeting poll"):
        other.state_outcome("t", ADA, None, 10, slot=0)


def outcome_findings(**fields: Any) -> list[str]:
    report = AuditReport("acme")
    replay = _Replay(report, "acme", {})
    created = Entry(
        "GOVERNANCE", 1, 0, "governance.poll_created.v1", "acme.poll.p1",
        {"poll": "p1", "spec": MEETING, "by": ADA, "closes_ns": 10, "proxy_limit": 5},
    )  # fmt: skip
    replay.run([created], {})
    replay.polls["p1"].results = True
    signed = {"poll": "p1", "text": "Friday", "slot": 1, "location": "Hall"}
    recorded = {"poll": "p1", "text": "Friday", "by": ADA, "slot": 1, "location": "Hall"} | fields
    replay._outcome_stated(
        Entry("GOVERNANCE", 2, 1, "governance.outcome_stated.v1", "acme.poll.p1",
              recorded | {"statement": {"body": signed}})
    )  # fmt: skip
    return [f.message for f in report.findings]


def test_the_auditor_holds_the_recorded_meeting_time_to_what_the_author_signed() -> None:
    assert outcome_findings() == []
    assert outcome_findings(slot=2) == ["poll p1: the outcome's slot differs from what the author signed"]
    assert outcome_findings(location="Elsewhere") == [
        "poll p1: the outcome's location differs from what the author signed"
    ]
    assert outcome_findings(by=BEA) == ["poll p1: an outcome stated by someone else, or before the results"]


def test_the_calendar_file_carries_the_meeting_in_utc_and_survives_a_round_trip() -> None:
    title = "Board meeting; budget, rota and a title long enough to be folded over several lines"
    ics = meeting_ics(
        uid="acme.poll.p1@coop.example", title=title,
        start=datetime.fromisoformat(TIMES[1]), end=datetime.fromisoformat("2026-12-04T11:00:00+01:00"),
        stamp=datetime(2026, 11, 24, 12, tzinfo=UTC), sequence=2, location="Room 2, Town hall",
        description="We meet on Friday.\nBring the accounts.", url="https://coop.example/app/",
    )  # fmt: skip
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))  # RFC 5545 folds long lines
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["SUMMARY"]) == title
    assert event.decoded("DTSTART") == datetime(2026, 12, 4, 8, 30, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 4, 10, tzinfo=UTC)
    assert (str(event["LOCATION"]), int(event["SEQUENCE"]), str(event["UID"])) == (
        "Room 2, Town hall", 2, "acme.poll.p1@coop.example",
    )  # fmt: skip
    assert str(event["DESCRIPTION"]) == "We meet on Friday.\nBring the accounts."
