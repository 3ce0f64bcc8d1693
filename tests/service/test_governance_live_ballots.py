"""A poll's screen follows the votes: governance says `ballot_cast` on `governance.live.<c>` (core
NATS, stored in no stream, never mailed), and the gateway's live stream carries it to every member.

The services run for real on the session's nats-server: membership and governance over JetStream,
and for the gateway test identity and messaging too (messaging answers `whoami` for the stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.errors
import pytest
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from services.governance.adapters.live import LiveNotices, NatsLiveNotices, live_subject
from services.governance.bootstrap import start_governance
from services.membership.adapters.fakes import FakeCredentials, MemoryNonces
from services.membership.bootstrap import start_membership
from shared.testkit.polling import eventually

from .test_governance_audit import Deployment, people
from .test_governance_support import in_hours
from .test_messaging_gateway import Person, community_of_three, events, served_gateway


class Heard:
    """What a core subscription on one subject has received, decoded."""

    def __init__(self) -> None:
        self.notices: list[dict[str, Any]] = []

    async def on(self, msg: Msg) -> None:
        self.notices.append(json.loads(msg.data))


@contextlib.asynccontextmanager
async def governance_on_nats(
    nc: NATS, nats_url: str, data_dir: Path, live: LiveNotices | None = None
) -> AsyncIterator[Deployment]:
    membership = await start_membership(
        nc, nats_url, data_dir / "m", credentials=FakeCredentials(), nonces=MemoryNonces()
    )
    governance = await start_governance(nc, nats_url, data_dir / "g", nonces=MemoryNonces(), live=live)
    try:
        yield Deployment(nc)
    finally:
        await governance.stop()
        await membership.stop()


async def test_each_ballot_is_told_live_with_the_turnout_and_stored_nowhere(
    nc: NATS, nats_url: str, tmp_path: Path
) -> None:
    async with governance_on_nats(nc, nats_url, tmp_path) as d:
        ada, bea, cy, di = await people(d, 3)
        live, stored = Heard(), Heard()
        subscriptions = [
            await nc.subscribe(live_subject(d.community), cb=live.on),
            await nc.subscribe(f"governance.notice.{d.community}", cb=stored.on),
        ]
        body = {"spec": {"kind": "proposal", "title": "Bakery"}, "closes_at": in_hours(2), "poll": "bakery"}
        await d.act(ada, "governance", "create_poll", body)
        await d.vote(bea, "bakery", choice=[0])
        await d.vote(bea, "bakery", choice=[2], reason="On second thoughts")  # replaces hers
        await d.act(cy, "governance", "delegate", {"proxy": di.did, "poll": "bakery"})
        await d.vote(di, "bakery", choice=[1], on_behalf_of=cy.did)
        await nc.flush()
        assert await eventually(lambda: len(live.notices) == 3), live.notices
        expected = [
            {"voter": bea.did, "cast_by": bea.did, "voted": 1},
            {"voter": bea.did, "cast_by": bea.did, "voted": 1},  # a replaced ballot counts once
            {"voter": cy.did, "cast_by": di.did, "voted": 2},  # her proxy's vote is hers
        ]
        assert live.notices == [
            {"kind": "ballot_cast", "poll": "bakery", "eligible": 4} | fields for fields in expected
        ]
        # Not a nudge: no notice about a ballot is stored in NOTICES (to be mailed)...
        assert [n["kind"] for n in stored.notices] == ["poll_opened"]
        for sub in subscriptions:
            await sub.unsubscribe()
        # ... and no stream captures the live subject (a stream would acknowledge this request).
        with pytest.raises(nats.errors.NoRespondersError):
            await nc.request(live_subject(d.community), b"{}", timeout=2)


async def test_a_failed_live_publish_does_not_fail_the_ballot(
    nc: NATS, nats_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = await nats.connect(nats_url)
    await closed.close()  # publishing on it raises: the live notice cannot go out
    async with governance_on_nats(nc, nats_url, tmp_path, live=NatsLiveNotices(closed)) as d:
        ada, bea = await people(d, 1)
        body = {"spec": {"kind": "proposal", "title": "Roof"}, "closes_at": in_hours(2), "poll": "roof"}
        await d.act(ada, "governance", "create_poll", body)
        with caplog.at_level(logging.WARNING):
            cast = await d.vote(bea, "roof", choice=[0])
        assert (cast["voter"], cast["replaced"]) == (bea.did, False)
        assert "live notice ballot_cast" in caplog.text
        board = await d.client.call("governance", "board", {"community": d.community, "poll": "roof"})
        assert [b["voter"] for b in board["ballots"]] == [bea.did]  # the ballot is recorded all the same


@pytest.fixture
async def gateway(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """Identity, membership, messaging (for `whoami`) and governance, behind a real HTTP gateway."""
    async with served_gateway(nc, nats_url, tmp_path, governance=True) as url:
        yield url


async def vote(http: httpx.AsyncClient, person: Person, poll: str, choice: list[int]) -> None:
    statement = person.sign("governance.cast_ballot", {"poll": poll, "choice": choice})
    cast = await http.post(
        f"/c/{person.community}/polls/{poll}/ballots", json={"statement": statement}, headers=person.auth
    )
    assert cast.status_code == 200, cast.text


async def test_every_member_with_the_live_stream_open_hears_of_another_members_ballot(gateway: str) -> None:
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        ada, bea, cy = await community_of_three(http)
        body = {"spec": {"kind": "proposal", "title": "Budget"}, "closes_at": in_hours(2), "poll": "budget"}
        created = await http.post(
            f"/c/{ada.community}/polls",
            json={"statement": ada.sign("governance.create_poll", body)},
            headers=ada.auth,
        )
        assert created.status_code == 201, created.text
        # Bea holds no role and is named in no recipient list: any member may read the board.
        async with http.stream("GET", f"/c/{bea.community}/live", headers=bea.auth) as stream:
            lines = stream.aiter_lines()
            [(ready, _)] = await events(lines, 1)
            assert ready == "ready"
            await vote(http, cy, "budget", [0])
            await vote(http, ada, "budget", [2])
            received = await asyncio.wait_for(events(lines, 2), timeout=20)
        assert received == [
            ("ballot_cast", {"kind": "ballot_cast", "poll": "budget", "voter": who.did, "cast_by": who.did,
                             "voted": n, "eligible": 3, "service": "governance"})
            for n, who in ((1, cy), (2, ada))
        ]  # fmt: skip
