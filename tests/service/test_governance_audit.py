"""The independent audit over real JetStream logs: it recomputes every poll and names tampered entries."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from nats.aio.client import Client as NATS

from services.governance.audit import LogCommit, audit_community, read_community
from services.governance.bootstrap import start_governance
from services.governance.crypto import (
    BallotRules,
    DeterministicRandomness,
    EncryptedTally,
    PollKey,
    TrusteeSetup,
    combine_shares,
    deal,
    encrypt_ballot,
    partial_decrypt,
)
from services.membership.adapters.fakes import FakeCredentials, MemoryNonces
from services.membership.bootstrap import start_membership
from shared.commands import CommandClient
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.testkit.plugin import unique_service
from shared.trust.member_keys import MemberKeys

from .test_governance_support import in_hours


class Deployment:
    def __init__(self, nc: NATS) -> None:
        self.nc = nc
        self.client = CommandClient(nc)
        self.community = unique_service("c")

    async def act(
        self, keys: MemberKeys, service: str, action: str, body: dict[str, Any], **extra: Any
    ) -> Any:
        statement = sign_statement(
            keys,
            action=f"{service}.{action}",
            community=self.community,
            body=body,
            nonce=secrets.token_hex(16),
            now=datetime.now(tz=UTC),
        )
        payload = {"community": self.community, "statement": statement} | extra
        return await self.client.call(service, action, payload)

    async def vote(self, keys: MemberKeys, poll: str, **body: Any) -> Any:
        return await self.act(keys, "governance", "cast_ballot", {"poll": poll} | body)

    async def logs(self) -> tuple[list[LogCommit], list[LogCommit]]:
        return (
            await read_community(self.nc, self.community, "MEMBERSHIP"),
            await read_community(self.nc, self.community, "GOVERNANCE"),
        )


@pytest.fixture
async def deployment(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[Deployment]:
    membership = await start_membership(
        nc, nats_url, tmp_path / "m", credentials=FakeCredentials(), nonces=MemoryNonces()
    )
    governance = await start_governance(nc, nats_url, tmp_path / "g", nonces=MemoryNonces())
    try:
        yield Deployment(nc)
    finally:
        await governance.stop()
        await membership.stop()


async def people(d: Deployment, count: int) -> list[MemberKeys]:
    admin = MemberKeys(SigningKey.generate())
    statement = sign_statement(
        admin, action="membership.create_community", community=d.community, body={"name": "Ada"},
        nonce=secrets.token_hex(16), now=datetime.now(tz=UTC),
    )  # fmt: skip
    await d.client.call(
        "membership", "create_community", {"slug": d.community, "name": "Co-op", "statement": statement}
    )
    everyone = [admin]
    for i in range(count):
        member = MemberKeys(SigningKey.generate())
        await d.act(member, "membership", "apply", {"name": f"M{i}"})
        await d.act(admin, "membership", "admit", {"member": member.did})
        everyone.append(member)
    return everyone


async def run_polls(d: Deployment) -> list[MemberKeys]:
    ada, bea, cy, di = await people(d, 3)
    gov = "governance"
    body: dict[str, Any] = {"spec": {"kind": "proposal", "title": "Bakery"}, "closes_at": in_hours(2)}
    proposal = (await d.act(ada, gov, "create_poll", body | {"poll": "bakery"}))["poll"]
    await d.act(ada, gov, "extend_poll", {"poll": proposal, "closes_at": in_hours(3)})  # her poll, later
    await d.vote(bea, proposal, choice=[2])
    await d.vote(bea, proposal, choice=[0], reason="The bakery pays for itself.")  # replaces her first
    await d.act(cy, gov, "delegate", {"proxy": di.did, "poll": proposal})
    await d.vote(di, proposal, choice=[0], on_behalf_of=cy.did)
    await d.vote(di, proposal, choice=[1])
    await d.act(ada, gov, "close_poll", {"poll": proposal})

    ranked = {"kind": "ranked", "title": "Chair", "options": ["A", "B", "C"], "method": "schulze"}
    chair = (
        await d.act(ada, gov, "create_poll", {"spec": ranked, "closes_at": in_hours(2), "poll": "chair"})
    )["poll"]
    for keys, ranking in ((ada, [0, 2, 1]), (bea, [1, 2, 0]), (cy, [2, 0, 1])):
        await d.vote(keys, chair, choice=ranking)
    await d.act(ada, gov, "close_poll", {"poll": chair})

    secret = {"kind": "single", "title": "Treasurer", "options": ["Bea", "Cy"], "threshold_pct": 0,
              "secret": {"trustees": [ada.did, bea.did], "threshold": 2}}  # fmt: skip
    created = await d.act(
        ada, gov, "create_poll", {"spec": secret, "closes_at": in_hours(2), "poll": "treasurer"}
    )
    crypto_id, rng = created["crypto_poll_id"], DeterministicRandomness(b"audit")
    dealt = [deal(crypto_id, i, 2, 2, rng) for i in (1, 2)]
    for keys, (commitment, _) in zip((ada, bea), dealt, strict=True):
        committed = {"poll": "treasurer", "commitment": msgspec.to_builtins(commitment)}
        opened = await d.act(keys, gov, "commit_trustee", committed)
    key = PollKey(crypto_id, opened["public_key"], msgspec.convert(opened["ballot_rules"], BallotRules))
    for keys, vote in ((ada, [1, 0]), (bea, [0, 1]), (cy, [0, 1])):
        ballot = encrypt_ballot(key, keys.did, vote, rng)
        await d.vote(keys, "treasurer", ballot=msgspec.to_builtins(ballot))
    closed = await d.act(ada, gov, "close_poll", {"poll": "treasurer"})
    tally = msgspec.convert(closed["encrypted_tally"], EncryptedTally)
    setup = TrusteeSetup(crypto_id, 2, 2, tuple(c for c, _ in dealt))
    shares = [s for _, dealt_shares in dealt for s in dealt_shares]
    for index, keys in ((1, ada), (2, bea)):
        partial = partial_decrypt(tally, combine_shares(setup, index, shares), rng)
        share = {"poll": "treasurer", "partial": msgspec.to_builtins(partial)}
        done = await d.act(keys, gov, "submit_partial_decryption", share)
    assert done["result"]["totals"] == {"Bea": 1, "Cy": 2}
    return [ada, bea, cy, di]


async def test_the_audit_recomputes_every_poll_from_the_log_alone(deployment: Deployment) -> None:
    await run_polls(deployment)
    membership, governance = await deployment.logs()
    report = audit_community(deployment.community, membership, governance, workers=1)
    assert report.findings == []
    results = {p.poll: p for p in report.polls}
    assert results["bakery"].recomputed is not None
    assert results["bakery"].recomputed["totals"] == {"agree": 2, "abstain": 1, "disagree": 0, "block": 0}
    assert (results["bakery"].voters, results["bakery"].delegated, results["bakery"].eligible) == (3, 1, 4)
    assert results["chair"].recomputed is not None
    assert results["chair"].recomputed["winners"] == ["C"]
    assert results["treasurer"].recomputed is not None
    assert results["treasurer"].recomputed["totals"] == {"Bea": 1, "Cy": 2}
    assert report.ballots_checked == 10  # every recorded ballot, replaced ones included


async def test_a_tampered_missing_or_reordered_entry_is_named_with_its_position(
    deployment: Deployment,
) -> None:
    await run_polls(deployment)
    membership, governance = await deployment.logs()
    ballot = next(i for i, c in enumerate(governance) if ".ballot." in c.subject)

    flipped = bytearray(governance[ballot].data)
    flipped[-80] ^= 1
    tampered = [
        *governance[:ballot],
        dataclasses.replace(governance[ballot], data=bytes(flipped)),
        *governance[ballot + 1 :],
    ]
    findings = audit_community(deployment.community, membership, tampered, workers=1).findings
    assert findings
    assert all(f.position == ballot for f in findings if f.stream == "GOVERNANCE")

    missing = [
        *governance[:ballot],
        *(dataclasses.replace(c, position=c.position - 1) for c in governance[ballot + 1 :]),
    ]
    report = audit_community(deployment.community, membership, missing, workers=1)
    assert not report.ok
    assert any("missing" in f.message for f in report.findings)

    swapped = [*governance[:ballot], governance[ballot + 1], governance[ballot], *governance[ballot + 2 :]]
    reordered = audit_community(deployment.community, membership, swapped, workers=1)
    assert any(f.position == ballot and "reordered" in f.message for f in reordered.findings)

    roll = next(i for i, c in enumerate(membership) if ".roll." in c.subject)
    without_roll = [c for i, c in enumerate(membership) if i != roll]
    renumbered = [dataclasses.replace(c, position=i) for i, c in enumerate(without_roll)]
    lost = audit_community(deployment.community, renumbered, governance, workers=1)
    assert any("never committed" in f.message for f in lost.findings)
