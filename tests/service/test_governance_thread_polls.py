"""Polls inside their Discuss thread: `list_polls` names each poll's discussion link and, asked for a
thread, lists only the polls discussed there; over the bus and through the gateway, on JetStream."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.commands import CommandRejected

from .test_governance_audit import Deployment, deployment, people  # noqa: F401 - deployment is a fixture
from .test_governance_gateway import community_of_two, http  # noqa: F401 - http is a fixture
from .test_governance_support import in_hours

LINKS = {
    "in-thread": "#/forums?thread=oats",
    "at-a-post": "#/forums?thread=oats&post=p9",
    "other-thread": "#/forums?thread=oats2",
    "a-forum": "#/forums?category=general",
    "on-the-web": "https://example.org/forums/oats",
    "no-link": "",
}


def proposal(title: str, link: str) -> dict[str, Any]:
    return {"kind": "proposal", "title": title} | ({"discussion": link} if link else {})


async def test_the_poll_list_names_each_discussion_and_filters_by_thread(
    deployment: Deployment,  # noqa: F811 - the fixture
) -> None:
    d = deployment
    ada, bea, _ = await people(d, 2)
    for poll, link in LINKS.items():
        body = {"spec": proposal(f"Poll {poll}", link), "closes_at": in_hours(24), "poll": poll}
        await d.act(ada, "governance", "create_poll", body)

    everything = await d.client.call("governance", "list_polls", {"community": d.community})
    assert {p["poll"]: p["discussion"] for p in everything["polls"]} == {
        poll: link or None for poll, link in LINKS.items()
    }
    assert "thread" not in everything
    # The other fields stay as they were.
    assert {p["status"] for p in everything["polls"]} == {"open"}
    assert set(everything["polls"][0]) == {
        "poll", "title", "kind", "secret", "status", "opens_at", "closes_at", "closed_at",
        "trustees_to_act", "to_reveal", "discussion",
    }  # fmt: skip

    query = {"community": d.community, "thread": "oats"}
    in_thread = await d.client.call("governance", "list_polls", query)
    assert in_thread["thread"] == "oats"
    assert [p["poll"] for p in in_thread["polls"]] == ["in-thread", "at-a-post"]  # in the order they opened
    nowhere = await d.client.call("governance", "list_polls", query | {"thread": "nowhere"})
    assert nowhere["polls"] == []

    # Decided in the thread: the filtered list follows the poll's state.
    await d.vote(bea, "in-thread", choice=[0])
    await d.act(ada, "governance", "close_poll", {"poll": "in-thread"})
    decided = await d.client.call("governance", "list_polls", query)
    assert {p["poll"]: p["status"] for p in decided["polls"]} == {"in-thread": "decided", "at-a-post": "open"}
    assert [p["closed_at"] is not None for p in decided["polls"]] == [True, False]

    for bad in ("a.b", "", "x" * 65, "oats\n", "oats&post=1", 7):
        with pytest.raises(CommandRejected) as refused:
            await d.client.call("governance", "list_polls", query | {"thread": bad})
        assert (refused.value.type, refused.value.status) == ("invalid_request", 422), bad


async def test_the_gateway_lists_the_polls_of_a_thread_and_refuses_a_bad_thread(
    http: httpx.AsyncClient,  # noqa: F811 - the fixture
) -> None:
    community, ada, bea = await community_of_two(http)
    for poll, link in (("here", "#/forums?thread=t-1"), ("there", "#/forums?thread=t-2"), ("bare", "")):
        body = {"spec": proposal(poll, link), "closes_at": in_hours(24), "poll": poll}
        created = await http.post(
            f"/c/{community}/polls",
            json={"statement": ada.sign("governance.create_poll", body)},
            headers=ada.auth,
        )
        assert created.status_code == 201, created.text

    listed = (await bea.get("/polls")).json()["polls"]
    assert {p["poll"]: p["discussion"] for p in listed} == {
        "here": "#/forums?thread=t-1",
        "there": "#/forums?thread=t-2",
        "bare": None,
    }
    in_thread = await bea.get("/polls?thread=t-1")
    assert in_thread.status_code == 200, in_thread.text
    assert [p["poll"] for p in in_thread.json()["polls"]] == ["here"]

    for bad in ("a.b", "x" * 65, "t%0A1", ""):
        refused = await bea.get(f"/polls?thread={bad}")
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["error"]["type"] == "invalid_request"
