"""Decide at the service layer: proxies (AGM) and verifiable secret ballots with trustees."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from services.governance.crypto import (
    BallotRules,
    DeterministicRandomness,
    EncryptedTally,
    PollKey,
    SecretShare,
    TrusteeSetup,
    combine_shares,
    deal,
    encrypt_ballot,
    partial_decrypt,
)
from services.governance.domain.commands import MemberQuery, PollQuery
from shared.domain import DomainError

from .test_governance_support import World, world

AGM = {"kind": "proposal", "title": "Adopt the accounts"}


async def test_a_proxy_votes_for_the_member_who_delegated_and_the_tally_shows_delegated_votes() -> None:
    w = await world(3)
    ann, bo, cy = w.members
    poll = (await w.poll(w.admin, AGM))["poll"]
    granted = await w.act(ann, "delegate", {"proxy": bo.did, "poll": poll})
    assert (granted["delegator"], granted["proxy"], granted["revoked"]) == (ann.did, bo.did, False)

    cast = await w.vote(bo, poll, [0], on_behalf_of=ann.did)
    assert (cast["voter"], cast["cast_by"]) == (ann.did, bo.did)
    await w.vote(bo, poll, [2])  # her own vote as well
    with pytest.raises(DomainError) as no_delegation:
        await w.vote(bo, poll, [0], on_behalf_of=cy.did)
    assert no_delegation.value.code == "no_delegation"

    board = await w.governance.board(PollQuery(w.community, poll))
    assert {(b["voter"], b["cast_by"]) for b in board["ballots"]} == {(ann.did, bo.did), (bo.did, bo.did)}
    result = (await w.act(w.admin, "close_poll", {"poll": poll}))["result"]
    assert (result["voters"], result["delegated"]) == (2, 1)
    assert result["totals"] == {"agree": 1, "abstain": 0, "disagree": 1, "block": 0}


async def test_her_own_ballot_overrides_her_proxy_and_a_proxy_cannot_override_hers() -> None:
    w = await world(2)
    ann, bo = w.members
    poll = (await w.poll(w.admin, AGM))["poll"]
    await w.act(ann, "delegate", {"proxy": bo.did, "poll": poll})
    await w.vote(bo, poll, [0], on_behalf_of=ann.did)
    mine = await w.vote(ann, poll, [2])
    assert mine["replaced"] is True
    with pytest.raises(DomainError) as in_person:
        await w.vote(bo, poll, [0], on_behalf_of=ann.did)
    assert in_person.value.code == "voted_in_person"


async def test_revoked_delegations_chains_and_the_proxy_limit_are_refused() -> None:
    w = await world(4)
    ann, bo, cy, di = w.members
    await w.act(w.admin, "configure_settings", {"proxy_limit": 1})
    poll = (await w.poll(w.admin, AGM))["poll"]
    with pytest.raises(DomainError) as not_admin:
        await w.act(ann, "configure_settings", {"proxy_limit": 9})
    assert not_admin.value.code == "not_an_admin"

    # a chain: Ann -> Bo -> Cy does not let Cy vote for Ann
    await w.act(ann, "delegate", {"proxy": bo.did, "poll": poll})
    with pytest.raises(DomainError) as twice:  # the same delegation again is refused, not stacked
        await w.act(ann, "delegate", {"proxy": bo.did, "poll": poll})
    assert twice.value.code == "already_delegated"
    await w.act(bo, "delegate", {"proxy": cy.did, "poll": poll})
    with pytest.raises(DomainError) as chain:
        await w.vote(cy, poll, [0], on_behalf_of=ann.did)
    assert chain.value.code == "delegation_chain_refused"

    # the limit: Bo may vote for one member only
    await w.act(di, "delegate", {"proxy": bo.did, "valid_until": "2099-01-01T00:00:00Z"})
    with pytest.raises(DomainError) as within:  # a period inside one she already gave
        await w.act(di, "delegate", {"proxy": bo.did, "valid_until": "2098-01-01T00:00:00Z"})
    assert within.value.code == "already_delegated"
    await w.vote(bo, poll, [0], on_behalf_of=ann.did)
    with pytest.raises(DomainError) as limit:
        await w.vote(bo, poll, [0], on_behalf_of=di.did)
    assert limit.value.code == "proxy_limit_reached"

    # a revoked delegation no longer lets the proxy vote
    delegations = await w.governance.delegations_of(MemberQuery(w.community, cy.did))
    from_bo = next(d for d in delegations["delegations"] if d["delegator"] == bo.did)
    with pytest.raises(DomainError) as not_yours:
        await w.act(cy, "revoke_delegation", {"delegation": from_bo["delegation"]})
    assert not_yours.value.code == "not_your_delegation"
    await w.act(bo, "revoke_delegation", {"delegation": from_bo["delegation"]})
    with pytest.raises(DomainError) as revoked:
        await w.vote(cy, poll, [0], on_behalf_of=bo.did)
    assert revoked.value.code == "no_delegation"


async def _secret_poll(
    w: World, spec: dict[str, Any], trustees: int, threshold: int
) -> tuple[str, list[Any]]:
    """A secret poll whose trustees run the ceremony: each commits publicly, shares travel privately."""
    chosen = [w.admin, *w.members][:trustees]
    secret = {"trustees": [t.did for t in chosen], "threshold": threshold}
    created = await w.poll(w.admin, spec | {"secret": secret})
    assert created["status"] == "created"
    poll, crypto_id = created["poll"], created["crypto_poll_id"]
    rng = DeterministicRandomness(poll.encode())
    dealt = [deal(crypto_id, i, threshold, trustees, rng) for i in range(1, trustees + 1)]
    for keys, (commitment, _) in zip(chosen, dealt, strict=True):
        opened = await w.act(
            keys, "commit_trustee", {"poll": poll, "commitment": msgspec.to_builtins(commitment)}
        )
    assert opened["status"] == "open"
    setup = TrusteeSetup(crypto_id, threshold, trustees, tuple(c for c, _ in dealt))
    shares: list[SecretShare] = [s for _, dealt_shares in dealt for s in dealt_shares]
    return poll, [combine_shares(setup, j, shares) for j in range(1, trustees + 1)]


async def test_a_secret_poll_is_counted_homomorphically_and_decrypted_by_a_threshold_of_trustees() -> None:
    w = await world(4)
    spec = {"kind": "single", "title": "Board seat", "options": ["Ann", "Bo", "Cy"], "threshold_pct": 0}
    poll, keys = await _secret_poll(w, spec, trustees=3, threshold=2)
    view = await w.governance.get_poll(PollQuery(w.community, poll))
    rules = msgspec.convert(view["ballot_rules"], BallotRules)
    assert rules == BallotRules(3, 1, 1, 1, implicit_last=True)
    key = PollKey(view["crypto_poll_id"], view["public_key"], rules)
    rng = DeterministicRandomness(b"voters")
    votes = {w.admin.did: [0, 1, 0], w.members[0].did: [0, 1, 0], w.members[1].did: [1, 0, 0]}
    trackers = {}
    for voter in [w.admin, w.members[0], w.members[1]]:
        ballot = encrypt_ballot(key, voter.did, votes[voter.did], rng)
        cast = await w.act(voter, "cast_ballot", {"poll": poll, "ballot": msgspec.to_builtins(ballot)})
        trackers[voter.did] = cast["tracker"]

    # a ballot with a forged proof, one made for someone else, and an open choice are refused
    honest = encrypt_ballot(key, w.members[2].did, [0, 0, 1], rng)
    forged = msgspec.json.decode(msgspec.json.encode(honest))
    forged["choice_proofs"][0] = forged["choice_proofs"][1]
    for body, code in (
        ({"ballot": forged}, "invalid_ballot"),
        ({"ballot": msgspec.to_builtins(encrypt_ballot(key, w.admin.did, [1, 0, 0], rng))}, "invalid_ballot"),
        ({"choice": [0]}, "invalid_ballot"),
    ):
        with pytest.raises(DomainError) as refused:
            await w.act(w.members[2], "cast_ballot", {"poll": poll} | body)
        assert refused.value.code == code

    # A reason would sit beside the voter's name on the board: a secret ballot refuses one.
    reasoned = msgspec.to_builtins(encrypt_ballot(key, w.members[2].did, [0, 0, 1], rng))
    with pytest.raises(DomainError) as not_secret:
        await w.act(
            w.members[2], "cast_ballot", {"poll": poll, "ballot": reasoned, "reason": "Blue, always."}
        )
    assert not_secret.value.code == "reason_not_secret"

    board = await w.governance.board(PollQuery(w.community, poll))
    assert {b["voter"]: b["tracker"] for b in board["ballots"]} == trackers  # each voter finds her ballot
    assert all("reason" not in b and "choice" not in b for b in board["ballots"])

    closed = await w.act(w.admin, "close_poll", {"poll": poll})
    tally = msgspec.convert(closed["encrypted_tally"], EncryptedTally)
    assert tally.ballots == 3
    cheat = partial_decrypt(tally, msgspec.structs.replace(keys[0], trustee=2), rng)
    with pytest.raises(DomainError) as wrong_key:
        await w.act(
            w.members[0], "submit_partial_decryption", {"poll": poll, "partial": msgspec.to_builtins(cheat)}
        )
    assert wrong_key.value.code == "invalid_partial_decryption"
    first = partial_decrypt(tally, keys[0], rng)
    waiting = await w.act(
        w.admin, "submit_partial_decryption", {"poll": poll, "partial": msgspec.to_builtins(first)}
    )
    assert waiting["result"] is None
    third = partial_decrypt(tally, keys[2], rng)
    done = await w.act(
        w.members[1], "submit_partial_decryption", {"poll": poll, "partial": msgspec.to_builtins(third)}
    )
    result = done["result"]
    assert result["totals"] == {"Ann": 1, "Bo": 2, "Cy": 0}
    assert (result["winners"], result["trustees_used"], result["voters"]) == (["Bo"], [1, 3], 3)
