"""Count polls at the service, through the gateway, and under the auditor: members opt in or out,
the poll succeeds when enough are in, and one that closes at its target closes at the ballot that
reaches it — over real governance, membership and identity services on JetStream."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS

from services.governance.audit import audit_community
from services.governance.domain.commands import CommunityQuery, PollQuery
from shared.commands import CommandRejected
from shared.domain import DomainError

from .test_governance_audit import Deployment, deployment, people  # noqa: F401 - deployment is a fixture
from .test_governance_gateway import community_of_two, http  # noqa: F401 - http is a fixture
from .test_governance_support import World, in_hours, world

FLOUR: dict[str, Any] = {"kind": "count", "title": "Bulk order of flour", "target": 3}
IN, OUT = [0], [1]


async def test_members_opt_in_or_out_and_the_poll_passes_when_enough_are_in() -> None:
    w = await world(4)
    poll = (await w.poll(w.members[0], FLOUR))["poll"]
    _, opened = w.notices.sent[-1]
    assert (opened["kind"], opened["target"]) == ("poll_opened", 3)  # mailed with how many are needed
    await w.vote(w.admin, poll, IN)
    await w.vote(w.members[0], poll, IN, reason="Two sacks for us")
    await w.vote(w.members[1], poll, OUT)
    live = await w.governance.results(_query(w, poll))
    assert live["count"] == {"in": 2, "out": 1, "target": 3, "reached": False}
    await w.vote(w.members[1], poll, IN)  # she changes her mind
    await w.vote(w.members[2], poll, OUT)
    for wrong in ([], [2], [0, 1]):
        with pytest.raises(DomainError) as refused:
            await w.vote(w.members[3], poll, wrong)
        assert refused.value.code == "invalid_choice"
    live = await w.governance.results(_query(w, poll))
    assert live["count"] == {"in": 3, "out": 1, "target": 3, "reached": True}
    assert live["result"] is None  # it stays open: it does not close at its target unless asked to

    board = await w.governance.board(_query(w, poll))
    ins = sorted(b["voter"] for b in board["ballots"] if b["choice"] == IN)
    assert ins == sorted([w.admin.did, w.members[0].did, w.members[1].did])  # who is in, in public
    assert board["not_voted"] == [w.members[3].did]

    result = (await w.act(w.members[0], "close_poll", {"poll": poll}))["result"]
    expected = {"in": 3, "out": 1, "target": 3, "reached": True, "outcome": "passed", "voters": 4}
    assert {k: result[k] for k in expected} == expected
    assert result["totals"] == {"I'm in": 3, "I'm out": 1}
    assert (await w.governance.results(_query(w, poll)))["count"]["reached"] is True


async def test_a_count_poll_without_enough_in_fails_and_bad_specs_are_refused_unrecorded() -> None:
    w = await world(2)
    refusals: list[tuple[dict[str, Any], str, str]] = [
        ({"target": 0}, "invalid_poll", "target"),
        ({"target": 100_001}, "invalid_poll", "target"),
        ({"target": None}, "invalid_request", "$.spec.target"),
        ({"target": "ten"}, "invalid_request", "$.spec.target"),
        ({"options": ["yes", "no"]}, "invalid_poll", "fixed positions"),
        ({"secret": {"trustees": [w.admin.did], "threshold": 1}}, "secret_not_supported", "who is in"),
    ]
    for fields, code, words in refusals:
        with pytest.raises(DomainError) as refused:
            await w.poll(w.admin, FLOUR | fields)
        assert (refused.value.code, words in refused.value.message) == (code, True), fields
    without = {k: v for k, v in FLOUR.items() if k != "target"}
    with pytest.raises(DomainError, match="needs a target") as missing:
        await w.poll(w.admin, without)
    assert missing.value.code == "invalid_poll"
    single = {"kind": "single", "title": "Colour", "options": ["red", "blue"]}
    for fields in ({"target": 3}, {"close_early": "target_reached"}):
        with pytest.raises(DomainError) as refused:
            await w.poll(w.admin, single | fields)
        assert refused.value.code == "invalid_poll"
    assert (await w.governance.list_polls(_community(w)))["polls"] == []  # nothing was recorded

    poll = (await w.poll(w.admin, FLOUR | {"target": 2}))["poll"]
    await w.vote(w.admin, poll, IN)
    await w.vote(w.members[0], poll, OUT)
    result = (await w.act(w.admin, "close_poll", {"poll": poll}))["result"]
    assert (result["in"], result["reached"], result["outcome"]) == (1, False, "failed")


async def test_a_count_poll_closes_at_the_ballot_that_reaches_its_target_and_the_audit_agrees(
    deployment: Deployment,  # noqa: F811
    nc: NATS,
) -> None:
    ada, bea, cy, di, eve = await people(deployment, 4)
    spec = FLOUR | {"close_early": "target_reached"}
    await deployment.act(
        ada, "governance", "create_poll", {"spec": spec, "closes_at": in_hours(2), "poll": "flour"}
    )
    assert "closed" not in await deployment.vote(ada, "flour", choice=IN)
    assert "closed" not in await deployment.vote(bea, "flour", choice=OUT)
    assert "closed" not in await deployment.vote(cy, "flour", choice=IN)
    assert "closed" not in await deployment.vote(bea, "flour", choice=OUT)  # still out: 2 in
    reached = await deployment.vote(di, "flour", choice=IN)
    assert reached["closed"] == "target_reached"
    with pytest.raises(CommandRejected) as late:
        await deployment.vote(eve, "flour", choice=IN)
    assert late.value.type == "poll_closed"

    view = await deployment.client.call(
        "governance", "get_poll", {"community": deployment.community, "poll": "flour"}
    )
    assert view["status"] == "decided"
    result = view["result"]
    assert {k: result[k] for k in ("in", "out", "target", "reached", "outcome")} == {
        "in": 3, "out": 1, "target": 3, "reached": True, "outcome": "passed",
    }  # fmt: skip

    membership, governance = await deployment.logs()
    report = audit_community(deployment.community, membership, governance, workers=1)
    assert report.findings == []
    (flour,) = report.polls
    assert (flour.kind, flour.status, flour.voters, flour.eligible) == ("count", "decided", 4, 5)
    assert flour.recomputed is not None
    assert {k: flour.recomputed[k] for k in ("in", "out", "target", "reached", "outcome")} == {
        "in": 3, "out": 1, "target": 3, "reached": True, "outcome": "passed",
    }  # fmt: skip
    closes = [c for c in governance if c.subject.endswith(".poll.flour")]
    assert b"target_reached" in closes[-2].data  # the close commit, just before the results


async def test_members_count_themselves_in_through_the_gateway(http: httpx.AsyncClient) -> None:  # noqa: F811
    community, ada, bea = await community_of_two(http)
    body = {"spec": FLOUR | {"target": 2}, "closes_at": in_hours(24), "poll": "flour"}
    created = await http.post(
        f"/c/{community}/polls",
        json={"statement": ada.sign("governance.create_poll", body)},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    assert created.json()["options"] == ["I'm in", "I'm out"]
    assert created.json()["spec"]["target"] == 2
    wrong = {"spec": FLOUR | {"target": 0}, "closes_at": in_hours(24)}
    refused = await http.post(
        f"/c/{community}/polls",
        json={"statement": ada.sign("governance.create_poll", wrong)},
        headers=ada.auth,
    )
    assert (refused.status_code, refused.json()["error"]["type"]) == (409, "invalid_poll")
    assert "target" in refused.json()["error"]["message"]

    vote = ada.sign("governance.cast_ballot", {"poll": "flour", "choice": IN})
    cast = await http.post(f"/c/{community}/polls/flour/ballots", json={"statement": vote}, headers=ada.auth)
    assert cast.status_code == 200, cast.text
    progress = await bea.get("/polls/flour/results")
    assert progress.json()["count"] == {"in": 1, "out": 0, "target": 2, "reached": False}
    vote = bea.sign("governance.cast_ballot", {"poll": "flour", "choice": IN})
    cast = await http.post(f"/c/{community}/polls/flour/ballots", json={"statement": vote}, headers=bea.auth)
    assert cast.status_code == 200, cast.text
    progress = await bea.get("/polls/flour/results")
    assert progress.json()["count"] == {"in": 2, "out": 0, "target": 2, "reached": True}
    board = await bea.get("/polls/flour/board")
    assert sorted(b["voter"] for b in board.json()["ballots"] if b["choice"] == IN) == sorted(
        [ada.did, bea.did]
    )


def _query(w: World, poll: str) -> PollQuery:
    return PollQuery(community=w.community, poll=poll)


def _community(w: World) -> CommunityQuery:
    return CommunityQuery(community=w.community)
