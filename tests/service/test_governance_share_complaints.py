"""A trustee dealt a false share complains; the dealer answers in public with the true share, checked
against her commitments; the complainer counts with it, and the auditor checks complaint and answer.

Over real governance, membership and identity services on JetStream."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from nats.aio.client import Client as NATS

from services.governance.audit import audit_community
from services.governance.crypto import (
    BallotRules,
    DealerCommitment,
    EncryptedTally,
    PollKey,
    SealedShare,
    SecretShare,
    ShareRejected,
    SystemRandomness,
    TrusteeSetup,
    deal_as_trustee,
    derived_coefficients,
    encrypt_ballot,
    partial_decrypt,
    polynomial_message,
    seal_share,
    trustee_key,
)
from services.governance.crypto.group import scalar_hex
from services.governance.crypto.threshold import evaluate
from shared.commands import CommandRejected
from shared.trust.member_keys import MemberKeys

from .test_governance_audit import Deployment, deployment, people  # noqa: F401 - deployment is a fixture
from .test_governance_support import in_hours

SPEC: dict[str, Any] = {"kind": "single", "title": "Treasurer", "options": ["Ann", "Bo"], "threshold_pct": 0}


def true_share(keys: MemberKeys, crypto_id: str, dealer: int, recipient: int, threshold: int) -> SecretShare:
    """What `dealer` owes `recipient`: her derived polynomial at the recipient's number."""
    coefficients = derived_coefficients(
        keys.signing_key.sign(polynomial_message(crypto_id)), crypto_id, threshold
    )
    return SecretShare(
        dealer=dealer, recipient=recipient, value=scalar_hex(evaluate(coefficients, recipient))
    )


def _setup(view: dict[str, Any]) -> TrusteeSetup:
    secret = view["spec"]["secret"]
    dealers = tuple(msgspec.convert(c, DealerCommitment) for c in view["commitments"])
    return TrusteeSetup(view["crypto_poll_id"], secret["threshold"], len(secret["trustees"]), dealers)


def _key(keys: MemberKeys, view: dict[str, Any], me: int) -> Any:
    sealed = {
        s["dealer"]: SealedShare(recipient=s["recipient"], box=s["box"])
        for s in view["sealed_shares"]
        if s["recipient"] == me
    }
    revealed = {
        c["dealer"]: msgspec.convert(c["revealed"], SecretShare)
        for c in view["complaints"]
        if c["recipient"] == me and c["revealed"] is not None
    }
    return trustee_key(
        keys.signing_key.sign,
        _setup(view),
        me,
        sealed,
        keys.x25519_private_key,
        keys.x25519_public_key,
        revealed,
    )


async def test_a_false_share_is_complained_of_answered_in_public_and_the_poll_still_counts(
    deployment: Deployment,  # noqa: F811
    nc: NATS,
) -> None:
    d = deployment
    ada, bea, cy, di = await people(d, 3)
    trustees = [ada, bea, cy]
    dids = [t.did for t in trustees]
    secret = {"trustees": dids, "threshold": 2}
    created = await d.act(
        ada,
        "governance",
        "create_poll",
        {"spec": SPEC | {"secret": secret}, "closes_at": in_hours(2), "poll": "t"},
    )
    crypto_id, rng = created["crypto_poll_id"], SystemRandomness()

    async def act(keys: MemberKeys, action: str, body: dict[str, Any]) -> Any:
        return await d.act(keys, "governance", action, {"poll": "t"} | body)

    async def refused(keys: MemberKeys, action: str, body: dict[str, Any]) -> str:
        with pytest.raises(CommandRejected) as refusal:
            await act(keys, action, body)
        return refusal.value.type

    async def listed() -> dict[str, Any]:
        polls = (await d.client.call("governance", "list_polls", {"community": d.community}))["polls"]
        (entry,) = [p for p in polls if p["poll"] == "t"]
        return entry  # type: ignore[no-any-return]

    # Ada deals Bea a false share (sealed properly, so only Bea can tell); Bea and Cy deal honestly.
    commitment, sealed = deal_as_trustee(ada.signing_key.sign, crypto_id, 1, 2, dids, rng)
    bad = SecretShare(dealer=1, recipient=2, value=scalar_hex(12345))
    sealed = [seal_share(bad, bea.did) if s.recipient == 2 else s for s in sealed]
    part = {"commitment": msgspec.to_builtins(commitment), "shares": msgspec.to_builtins(sealed)}
    await act(ada, "commit_trustee", part)
    assert await refused(bea, "complain_share", {"dealer": 3}) == "invalid_complaint"  # Cy has dealt nothing
    for index, keys in ((2, bea), (3, cy)):
        commitment, sealed = deal_as_trustee(keys.signing_key.sign, crypto_id, index, 2, dids, rng)
        part = {"commitment": msgspec.to_builtins(commitment), "shares": msgspec.to_builtins(sealed)}
        view = await act(keys, "commit_trustee", part)
    assert view["status"] == "open"

    # Bea checks what she was dealt: Ada's share is false. She complains; Ada is told, and is to act.
    with pytest.raises(ShareRejected) as rejected:
        _key(bea, view, 2)
    assert rejected.value.dealer == 1
    view = await act(bea, "complain_share", {"dealer": 1})
    assert view["complaints"] == [{"dealer": 1, "recipient": 2, "revealed": None}]
    assert (await listed())["to_reveal"] == [ada.did]
    assert await refused(bea, "complain_share", {"dealer": 1}) == "already_complained"
    assert await refused(bea, "complain_share", {"dealer": 2}) == "invalid_complaint"  # her own share
    assert await refused(di, "complain_share", {"dealer": 1}) == "not_a_trustee"

    # Ada cannot answer with another false share, nor reveal what no one asked for; nothing is recorded.
    assert (
        await refused(ada, "reveal_share", {"recipient": 2, "share": msgspec.to_builtins(bad)})
        == "invalid_share"
    )
    honest_to_cy = true_share(ada, crypto_id, 1, 3, 2)
    assert await refused(
        ada, "reveal_share", {"recipient": 3, "share": msgspec.to_builtins(honest_to_cy)}
    ) == ("no_complaint")
    forged = true_share(cy, crypto_id, 3, 2, 2)  # a true share, but Cy's, not Ada's
    assert await refused(ada, "reveal_share", {"recipient": 2, "share": msgspec.to_builtins(forged)}) == (
        "invalid_share"
    )
    assert (await listed())["to_reveal"] == [ada.did]

    # Ada reveals the share she owes Bea; the service checks it against her commitments.
    owed = true_share(ada, crypto_id, 1, 2, 2)
    view = await act(ada, "reveal_share", {"recipient": 2, "share": msgspec.to_builtins(owed)})
    assert view["complaints"] == [{"dealer": 1, "recipient": 2, "revealed": msgspec.to_builtins(owed)}]
    assert (await listed())["to_reveal"] == []
    assert await refused(ada, "reveal_share", {"recipient": 2, "share": msgspec.to_builtins(owed)}) == (
        "already_revealed"
    )

    # Members vote; the poll closes; Bea counts with the revealed share, with Cy.
    key = PollKey(crypto_id, view["public_key"], msgspec.convert(view["ballot_rules"], BallotRules))
    for voter, votes in ((ada, [1, 0]), (bea, [0, 1]), (di, [0, 1])):
        ballot = encrypt_ballot(key, voter.did, votes, rng)
        await d.vote(voter, "t", ballot=msgspec.to_builtins(ballot))
    closed = await act(ada, "close_poll", {})
    tally = msgspec.convert(closed["encrypted_tally"], EncryptedTally)
    for index, keys in ((2, bea), (3, cy)):
        partial = partial_decrypt(tally, _key(keys, closed, index), rng)
        done = await act(keys, "submit_partial_decryption", {"partial": msgspec.to_builtins(partial)})
    assert done["result"]["totals"] == {"Ann": 1, "Bo": 2}
    assert done["result"]["trustees_used"] == [2, 3]
    assert await refused(cy, "complain_share", {"dealer": 1}) == "poll_decided"

    # The auditor replays it all: the complaint by a trustee, the answer matching Ada's commitments.
    membership, governance = await d.logs()
    report = audit_community(d.community, membership, governance, workers=1)
    assert report.findings == []
    assert [p.status for p in report.polls] == ["decided"]
    assert report.polls[0].complaints == [{"dealer": 1, "recipient": 2, "answered": True}]
