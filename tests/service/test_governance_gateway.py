"""Decide through the gateway, over real identity, membership and governance services on JetStream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from nats.aio.client import Client as NATS

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.governance.bootstrap import start_governance
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.membership.bootstrap import start_membership
from shared.testkit.plugin import unique_service

from .test_gateway_membership import Person
from .test_governance_support import in_hours


@pytest.fixture
async def http(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    identity = await start_identity(nc, nats_url, tmp_path / "identity", IdentitySettings())
    membership = await start_membership(nc, nats_url, tmp_path / "membership")
    governance = await start_governance(nc, nats_url, tmp_path / "governance")
    app = create_app(GatewaySettings(nats_url=nats_url), [])
    app.state.nats = nc
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client
    finally:
        await governance.stop()
        await membership.stop()
        await identity.stop()


async def community_of_two(http: httpx.AsyncClient) -> tuple[str, Person, Person]:
    community = unique_service("c")
    ada = await Person(http, community).sign_in()
    created = await http.post(
        f"/c/{community}",
        json={"name": "River Co-op", "statement": ada.sign("membership.create_community", {"name": "Ada"})},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    bea = await Person(http, community).sign_in()
    await http.post(
        f"/c/{community}/apply", json={"statement": bea.sign("membership.apply", {"name": "Bea"})}
    )
    assert (await ada.act("admit", {"member": bea.did})).status_code == 200
    return community, ada, bea


async def test_members_start_a_poll_vote_and_read_the_results_through_the_gateway(
    http: httpx.AsyncClient,
) -> None:
    community, ada, bea = await community_of_two(http)
    spec = {"kind": "proposal", "title": "Buy the bakery"}
    body = {"spec": spec, "closes_at": in_hours(24), "poll": "bakery"}
    created = await http.post(
        f"/c/{community}/polls",
        json={"statement": ada.sign("governance.create_poll", body)},
        headers=ada.auth,
    )
    assert created.status_code == 201, created.text
    assert (created.json()["status"], created.json()["roll"]["size"]) == ("open", 2)

    for person, choice in ((ada, 0), (bea, 0)):
        vote = person.sign("governance.cast_ballot", {"poll": "bakery", "choice": [choice]})
        cast = await http.post(
            f"/c/{community}/polls/bakery/ballots", json={"statement": vote}, headers=person.auth
        )
        assert cast.status_code == 200, cast.text

    live = (await bea.get("/polls/bakery/results")).json()
    assert (live["voted"], live["turnout_pct"]) == (2, 100.0)
    close = ada.sign("governance.close_poll", {"poll": "bakery"})
    closed = await http.post(
        f"/c/{community}/polls/bakery/acts/close_poll", json={"statement": close}, headers=ada.auth
    )
    assert closed.json()["result"]["outcome"] == "passed", closed.text
    listed = (await bea.get("/polls")).json()["polls"]
    assert [p["status"] for p in listed] == ["decided"]
    # Closed by its author before its closing time: the list and the poll say when it really closed.
    shown = (await bea.get("/polls/bakery")).json()
    assert listed[0]["closed_at"] == shown["closed_at"]
    assert shown["closed_at"] < shown["closes_at"]


async def test_refusals_are_typed_and_outsiders_read_nothing(http: httpx.AsyncClient) -> None:
    community, ada, bea = await community_of_two(http)
    body = {
        "spec": {"kind": "single", "title": "Colour", "options": ["red", "blue"]},
        "closes_at": in_hours(1),
    }
    created = await http.post(
        f"/c/{community}/polls",
        json={"statement": ada.sign("governance.create_poll", body)},
        headers=ada.auth,
    )
    poll = created.json()["poll"]

    outsider = await Person(http, community).sign_in()
    assert (await outsider.get(f"/polls/{poll}")).json()["error"]["type"] == "not_a_member"
    vote = outsider.sign("governance.cast_ballot", {"poll": poll, "choice": [0]})
    refused = await http.post(
        f"/c/{community}/polls/{poll}/ballots", json={"statement": vote}, headers=outsider.auth
    )
    assert (refused.status_code, refused.json()["error"]["type"]) == (403, "not_eligible")

    bad = bea.sign("governance.cast_ballot", {"poll": poll, "choice": [5]})
    invalid = await http.post(
        f"/c/{community}/polls/{poll}/ballots", json={"statement": bad}, headers=bea.auth
    )
    assert invalid.json()["error"]["type"] == "invalid_choice"
    elsewhere = bea.sign("governance.cast_ballot", {"poll": "other", "choice": [0]})
    mismatch = await http.post(
        f"/c/{community}/polls/{poll}/ballots", json={"statement": elsewhere}, headers=bea.auth
    )
    assert mismatch.json()["error"]["type"] == "poll_mismatch"
    borrowed = await http.post(
        f"/c/{community}/polls/{poll}/ballots",
        json={"statement": bea.sign("governance.cast_ballot", {"poll": poll, "choice": [0]})},
        headers=ada.auth,
    )
    assert borrowed.json()["error"]["type"] == "not_your_statement"

    other, carl, _ = await community_of_two(http)
    cross = await http.get(f"/c/{community}/polls/{poll}", headers=carl.auth)
    assert cross.status_code in (401, 403)
    assert (await carl.get(f"/polls/{poll}")).json()["error"]["type"] == "unknown_poll"
    assert other != community


async def test_a_member_gives_and_revokes_a_proxy_through_the_gateway(http: httpx.AsyncClient) -> None:
    community, ada, bea = await community_of_two(http)
    body = {"spec": {"kind": "proposal", "title": "Accounts"}, "closes_at": in_hours(1), "poll": "agm"}
    await http.post(
        f"/c/{community}/polls",
        json={"statement": ada.sign("governance.create_poll", body)},
        headers=ada.auth,
    )
    settings = await http.put(
        f"/c/{community}/governance/settings",
        json={"statement": bea.sign("governance.configure_settings", {"proxy_limit": 9})},
        headers=bea.auth,
    )
    assert (settings.status_code, settings.json()["error"]["type"]) == (403, "not_an_admin")

    given = await http.post(
        f"/c/{community}/delegations",
        json={"statement": bea.sign("governance.delegate", {"proxy": ada.did, "poll": "agm"})},
        headers=bea.auth,
    )
    assert given.status_code == 201, given.text
    delegation = given.json()["delegation"]
    assert [d["proxy"] for d in (await bea.get("/delegations")).json()["delegations"]] == [ada.did]

    vote = ada.sign("governance.cast_ballot", {"poll": "agm", "choice": [0], "on_behalf_of": bea.did})
    cast = await http.post(f"/c/{community}/polls/agm/ballots", json={"statement": vote}, headers=ada.auth)
    assert (cast.json()["voter"], cast.json()["cast_by"]) == (bea.did, ada.did)

    revoke = bea.sign("governance.revoke_delegation", {"delegation": delegation})
    revoked = await http.post(
        f"/c/{community}/delegations/{delegation}/revoke", json={"statement": revoke}, headers=bea.auth
    )
    assert revoked.json()["revoked"] is True
    again = ada.sign("governance.cast_ballot", {"poll": "agm", "choice": [2], "on_behalf_of": bea.did})
    refused = await http.post(
        f"/c/{community}/polls/agm/ballots", json={"statement": again}, headers=ada.auth
    )
    assert (refused.status_code, refused.json()["error"]["type"]) == (403, "no_delegation")
    assert (await bea.get("/polls/agm/results")).json()["delegated"] == 1
