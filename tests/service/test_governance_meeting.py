"""Meeting polls at the service, through the gateway, and under the auditor: members say when they
can come, the count picks the time, the author's outcome fixes the meeting, calendars get a file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar
from nats.aio.client import Client as NATS

from services.governance.audit import audit_community
from shared.domain import DomainError

from .test_governance_audit import Deployment, deployment, people  # noqa: F401 - deployment is a fixture
from .test_governance_gateway import community_of_two, http  # noqa: F401 - http is a fixture
from .test_governance_support import in_hours, world


def times(*hours: int) -> list[str]:
    """Slots on a whole hour some days ahead, in UTC and with an offset, as the app may send them."""
    day = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
    return [(day + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in hours]


async def test_members_answer_each_time_and_the_count_picks_the_one_most_can_come_to() -> None:
    w = await world(3)
    slots = times(0, 24, 48)
    meeting = {"kind": "meeting", "title": "Board meeting", "options": slots, "duration_min": 90}
    poll = (await w.poll(w.members[0], meeting))["poll"]
    _, opened = w.notices.sent[-1]
    assert (opened["kind"], opened["times"]) == ("poll_opened", slots)  # mailed with the times
    await w.vote(w.admin, poll, [2, 1, 0])
    await w.vote(w.members[0], poll, [2, 2, 0])
    await w.vote(w.members[1], poll, [1, 2, 2])
    with_reason = await w.vote(w.members[2], poll, [0, 2, 1], reason="Evenings only")
    assert with_reason["poll"] == poll
    for wrong in ([2, 1], [2, 3, 0]):
        with pytest.raises(DomainError) as refused:
            await w.vote(w.members[2], poll, wrong)
        assert refused.value.code == "invalid_choice"

    result = (await w.act(w.members[0], "close_poll", {"poll": poll}))["result"]
    assert result["availability"] == {
        slots[0]: {"yes": 2, "maybe": 1, "no": 1},
        slots[1]: {"yes": 3, "maybe": 1, "no": 0},
        slots[2]: {"yes": 1, "maybe": 1, "no": 2},
    }
    assert (result["winners"], result["outcome"], result["voters"]) == ([slots[1]], "decided", 4)

    stated = await w.act(
        w.members[0],
        "state_outcome",
        {"poll": poll, "text": "We meet then.", "slot": 1, "location": "The hall"},
    )
    end = (datetime.fromisoformat(slots[1]) + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert {k: stated["meeting"][k] for k in ("start", "end", "location", "revision")} == {
        "start": slots[1], "end": end, "location": "The hall", "revision": 0,
    }  # fmt: skip
    community, notice = w.notices.sent[-1]
    assert (community, notice["kind"], notice["text"]) == (w.community, "outcome_stated", "We meet then.")
    assert notice["meeting"] == stated["meeting"]
    assert sorted(notice["recipients"]) == sorted([w.admin.did, *(m.did for m in w.members)])


async def test_a_meeting_poll_refuses_vague_times_and_secrecy_and_only_it_picks_a_time() -> None:
    w = await world(1)
    refusals = [
        ({"options": ["next Tuesday", *times(1)]}, "invalid_poll"),
        ({"options": [*times(1), "2026-12-03T17:00:00"]}, "invalid_poll"),
        ({"options": times(1, 2), "duration_min": 2000}, "invalid_poll"),
        (
            {"options": times(1, 2), "secret": {"trustees": [w.admin.did], "threshold": 1}},
            "secret_not_supported",
        ),
    ]
    for fields, code in refusals:
        with pytest.raises(DomainError) as refused:
            await w.poll(w.admin, {"kind": "meeting", "title": "Meet"} | fields)
        assert refused.value.code == code, fields
    single = {"kind": "single", "title": "Colour", "options": ["red", "blue"]}
    poll = (await w.poll(w.admin, single))["poll"]
    await w.vote(w.admin, poll, [0])
    await w.act(w.admin, "close_poll", {"poll": poll})
    with pytest.raises(DomainError) as refused:
        await w.act(w.admin, "state_outcome", {"poll": poll, "text": "Red.", "slot": 0})
    assert refused.value.code == "invalid_request"
    assert "meeting" not in await w.act(w.admin, "state_outcome", {"poll": poll, "text": "Red."})


async def test_the_meeting_is_offered_to_calendars_through_the_gateway(http: httpx.AsyncClient) -> None:  # noqa: F811
    community, ada, bea = await community_of_two(http)
    slots = times(2, 26)
    body = {"spec": {"kind": "meeting", "title": "Planting day", "options": slots}, "closes_at": in_hours(24)}
    created = await http.post(
        f"/c/{community}/polls",
        json={"statement": ada.sign("governance.create_poll", body | {"poll": "planting"})},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    for person, answers in ((ada, [2, 0]), (bea, [1, 2])):
        vote = person.sign("governance.cast_ballot", {"poll": "planting", "choice": answers})
        cast = await http.post(
            f"/c/{community}/polls/planting/ballots", json={"statement": vote}, headers=person.auth
        )
        assert cast.status_code == 200, cast.text
    close = ada.sign("governance.close_poll", {"poll": "planting"})
    closed = await http.post(
        f"/c/{community}/polls/planting/acts/close_poll", json={"statement": close}, headers=ada.auth
    )
    result = closed.json()["result"]
    assert (result["outcome"], result["winners"]) == ("decided", [slots[0]])  # both can come, Bea if need be

    before = await bea.get("/polls/planting/meeting.ics")
    assert (before.status_code, before.json()["error"]["type"]) == (404, "no_meeting_time")
    outcome = {"poll": "planting", "text": "The first Saturday.", "slot": 0, "location": "North field"}
    stated = await http.post(
        f"/c/{community}/polls/planting/acts/state_outcome",
        json={"statement": ada.sign("governance.state_outcome", outcome)},
        headers=ada.auth,
    )
    assert stated.status_code == 200, stated.text

    ics = await bea.get("/polls/planting/meeting.ics")
    assert ics.status_code == 200, ics.text
    assert ics.headers["content-type"].startswith("text/calendar")
    assert "Planting%20day.ics" in ics.headers["content-disposition"]
    (event,) = Calendar.from_ical(ics.content).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime.fromisoformat(slots[0])
    assert event.decoded("DTEND") == datetime.fromisoformat(slots[0]) + timedelta(hours=1)
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == ("Planting day", "North field")
    assert str(event["UID"]) == f"{community}.poll.planting@gw"
    assert "The first Saturday." in str(event["DESCRIPTION"])
    assert str(event["URL"]) == f"http://gw/app/#/polls?poll=planting&c={community}"
    outsider = await http.get(f"/c/{community}/polls/planting/meeting.ics")
    assert outsider.status_code == 401


async def test_the_auditor_recounts_a_meeting_poll_and_checks_its_outcome(
    deployment: Deployment,  # noqa: F811
    nc: NATS,
    tmp_path: Path,
) -> None:
    ada, bea, cy = await people(deployment, 2)
    slots = times(3, 27, 51)
    spec = {"kind": "meeting", "title": "AGM", "options": slots, "duration_min": 120}
    await deployment.act(
        ada, "governance", "create_poll", {"spec": spec, "closes_at": in_hours(2), "poll": "agm"}
    )
    for keys, answers in ((ada, [2, 0, 1]), (bea, [0, 2, 1]), (cy, [1, 0, 2])):
        await deployment.vote(keys, "agm", choice=answers)
    await deployment.act(ada, "governance", "close_poll", {"poll": "agm"})
    outcome = {"poll": "agm", "text": "Third week.", "slot": 2, "location": "Online"}
    await deployment.act(ada, "governance", "state_outcome", outcome)

    membership, governance = await deployment.logs()
    report = audit_community(deployment.community, membership, governance, workers=1)
    assert report.findings == []
    (agm,) = report.polls
    assert agm.recomputed is not None
    assert (agm.recomputed["winners"], agm.recomputed["outcome"]) == ([slots[2]], "decided")
    assert agm.recomputed["availability"][slots[2]] == {"yes": 1, "maybe": 2, "no": 0}
