"""Identity settles its own optimistic-concurrency races: callers never see `conflict`.

Many credentials are issued at once for one community (each request loads the community's trust
agent, allocates a status index and saves); every request must succeed, each with its own index,
and the community's DID must be created exactly once even when the first requests race to create it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from services.identity.bootstrap import IdentityService, start_identity
from services.identity.config import IdentitySettings
from services.identity.retry import MAX_ATTEMPTS, Busy, Conflict, retrying
from shared.commands import CommandClient
from shared.testkit.plugin import unique_service
from shared.trust.member_keys import MemberKeys
from shared.trust.webvh_controller import WebvhLog


@pytest.fixture
async def identity(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[IdentityService]:
    service = await start_identity(nc, nats_url, tmp_path, IdentitySettings())
    yield service
    await service.stop()


async def test_concurrent_issuance_never_reports_a_conflict(identity: IdentityService, nc: NATS) -> None:
    community = unique_service("c")
    client = CommandClient(nc, timeout=60)
    until = (datetime.now(tz=UTC) + timedelta(days=365)).isoformat()
    members = [MemberKeys.from_seed(bytes([index + 1]) * 32).did for index in range(16)]

    async def issue(member: str) -> int:
        issued = await client.call(
            "identity",
            "issue_credential",
            {
                "community": community,
                "type": "MembershipCredential",
                "subject": member,
                "claims": {},
                "valid_until": until,
            },
        )
        assert issued["credential"]["credentialSubject"]["id"] == member
        return int(issued["status"]["index"])

    indices = await asyncio.gather(*(issue(member) for member in members))
    assert len(set(indices)) == len(members)
    log = (await client.call("identity", "did_log", {"community": community}))["log"]
    assert len(WebvhLog.from_jsonl(log).entries) == 1  # the racing creations made one DID


class Flaky:
    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts
        self.calls = 0

    @retrying
    def act(self, value: int) -> int:
        self.calls += 1
        if self.calls <= self.conflicts:
            raise Conflict("someone else saved first")
        return value * 2


def test_a_lost_race_is_run_again_on_fresh_state() -> None:
    flaky = Flaky(conflicts=3)
    assert flaky.act(21) == 42
    assert flaky.calls == 4


def test_endless_races_end_in_a_typed_busy_refusal() -> None:
    flaky = Flaky(conflicts=10**6)
    with pytest.raises(Busy) as refused:
        flaky.act(1)
    assert refused.value.code == "busy"
    assert refused.value.status == 503
    assert flaky.calls == MAX_ATTEMPTS
