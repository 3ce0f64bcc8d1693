"""The key ceremony through the log: each trustee derives her polynomial from her own key, deals
shares sealed to the other trustees inside her signed commit, and later rebuilds her decryption key
from the poll's public record and her recovery phrase alone: nothing is kept in between."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest

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
    encrypt_ballot,
    partial_decrypt,
    seal_share,
    trustee_key,
)
from services.governance.domain.commands import CommunityQuery, PollQuery
from services.governance.domain.events import PollOpened
from services.governance.domain.poll import poll_id
from shared.domain import DomainError
from shared.trust.member_keys import MemberKeys

from .test_governance_support import World, world

SPEC = {"kind": "single", "title": "Treasurer", "options": ["Ann", "Bo"], "threshold_pct": 0}


async def _to_act(w: World, poll: str) -> list[str]:
    listed = (await w.governance.list_polls(CommunityQuery(w.community)))["polls"]
    (entry,) = [p for p in listed if p["poll"] == poll]
    return entry["trustees_to_act"]  # type: ignore[no-any-return]


def _sealed_for(view: dict[str, Any], me: int) -> dict[int, SealedShare]:
    return {
        s["dealer"]: SealedShare(recipient=s["recipient"], box=s["box"])
        for s in view["sealed_shares"]
        if s["recipient"] == me
    }


def _setup(view: dict[str, Any]) -> TrusteeSetup:
    secret = view["spec"]["secret"]
    dealers = tuple(msgspec.convert(c, DealerCommitment) for c in view["commitments"])
    return TrusteeSetup(view["crypto_poll_id"], secret["threshold"], len(secret["trustees"]), dealers)


def _key(keys: MemberKeys, view: dict[str, Any], me: int) -> Any:
    return trustee_key(
        keys.signing_key.sign,
        _setup(view),
        me,
        _sealed_for(view, me),
        keys.x25519_private_key,
        keys.x25519_public_key,
    )


async def _created(w: World, trustees: list[MemberKeys], threshold: int) -> tuple[str, str]:
    secret = {"trustees": [t.did for t in trustees], "threshold": threshold}
    created = await w.poll(w.admin, SPEC | {"secret": secret})
    return created["poll"], created["crypto_poll_id"]


async def test_trustees_deal_through_the_log_and_decrypt_from_their_phrase_alone() -> None:
    w = await world(3)
    trustees = [w.admin, w.members[0], w.members[1]]
    dids = [t.did for t in trustees]
    poll, crypto_id = await _created(w, trustees, threshold=2)
    # Each trustee is told her part of the key is wanted (by email too, when she asked for it).
    [(community, asked)] = [(c, n) for c, n in w.notices.sent if n["kind"] == "key_requested"]
    assert (community, asked["poll"], asked["recipients"]) == (w.community, poll, sorted(dids))
    rng = SystemRandomness()
    assert await _to_act(w, poll) == dids  # the poll list says whom the ceremony waits for
    for index, keys in enumerate(trustees, start=1):
        commitment, sealed = deal_as_trustee(keys.signing_key.sign, crypto_id, index, 2, dids, rng)
        assert sorted(s.recipient for s in sealed) == [j for j in (1, 2, 3) if j != index]
        opened = await w.act(
            keys,
            "commit_trustee",
            {
                "poll": poll,
                "commitment": msgspec.to_builtins(commitment),
                "shares": msgspec.to_builtins(sealed),
            },
        )
    assert opened["status"] == "open"
    assert await _to_act(w, poll) == []
    view = await w.governance.get_poll(PollQuery(w.community, poll))
    assert [c["dealer"] for c in view["commitments"]] == [1, 2, 3]
    assert sorted((s["dealer"], s["recipient"]) for s in view["sealed_shares"]) == [
        (1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2),
    ]  # fmt: skip

    # Derivation is deterministic: dealing again gives the commitment already in the log.
    again, _ = deal_as_trustee(trustees[1].signing_key.sign, crypto_id, 2, 2, dids, rng)
    assert again.coefficients == tuple(view["commitments"][1]["coefficients"])

    rules = msgspec.convert(view["ballot_rules"], BallotRules)
    key = PollKey(crypto_id, view["public_key"], rules)
    for voter, votes in ((w.admin, [1, 0]), (w.members[0], [0, 1]), (w.members[2], [0, 1])):
        ballot = encrypt_ballot(key, voter.did, votes, rng)
        await w.act(voter, "cast_ballot", {"poll": poll, "ballot": msgspec.to_builtins(ballot)})
    closed = await w.act(w.admin, "close_poll", {"poll": poll})
    tally = msgspec.convert(closed["encrypted_tally"], EncryptedTally)
    assert await _to_act(w, poll) == dids  # now waiting for their shares of the count

    # Trustees 3 and 1 rebuild their keys from the public record and their own keys, and decrypt.
    view = await w.governance.get_poll(PollQuery(w.community, poll))
    for index in (3, 1):
        partial = partial_decrypt(tally, _key(trustees[index - 1], view, index), rng)
        done = await w.act(
            trustees[index - 1],
            "submit_partial_decryption",
            {"poll": poll, "partial": msgspec.to_builtins(partial)},
        )
        if index == 3:
            assert await _to_act(w, poll) == dids[:2]
    assert await _to_act(w, poll) == []  # decided
    assert done["result"]["totals"] == {"Ann": 1, "Bo": 2}
    assert done["result"]["trustees_used"] == [1, 3]

    # Another member cannot open a trustee's shares: her key does not open the boxes.
    with pytest.raises(ShareRejected):
        _key(w.members[2], view, 2)


async def test_dealt_shares_must_name_every_other_trustee_once_in_a_sealed_box() -> None:
    w = await world(2)
    trustees = [w.admin, w.members[0]]
    dids = [t.did for t in trustees]
    poll, crypto_id = await _created(w, trustees, threshold=2)
    commitment, sealed = deal_as_trustee(w.admin.signing_key.sign, crypto_id, 1, 2, dids, SystemRandomness())
    body = {"poll": poll, "commitment": msgspec.to_builtins(commitment)}
    good = msgspec.to_builtins(sealed)
    for shares in (
        [],  # none for trustee 2
        good + good,  # twice
        [{"recipient": 1, "box": good[0]["box"]}],  # to herself instead
        [{"recipient": 2, "box": "not base64!"}],
        [{"recipient": 2, "box": base64.b64encode(b"short").decode()}],
        [{"recipient": 2, "box": good[0]["box"], "extra": 1}],
    ):
        with pytest.raises(DomainError) as refused:
            await w.act(w.admin, "commit_trustee", body | {"shares": shares})
        assert refused.value.code == "invalid_shares", shares
    view = await w.governance.get_poll(PollQuery(w.community, poll))
    assert view["trustees_committed"] == []  # nothing was written
    assert view["sealed_shares"] == []
    await w.act(w.admin, "commit_trustee", body | {"shares": good})


async def test_a_share_that_does_not_match_its_commitment_names_its_dealer() -> None:
    w = await world(2)
    trustees = [w.admin, w.members[0]]
    dids = [t.did for t in trustees]
    poll, crypto_id = await _created(w, trustees, threshold=2)
    rng = SystemRandomness()
    commitment, _ = deal_as_trustee(w.admin.signing_key.sign, crypto_id, 1, 2, dids, rng)
    wrong = seal_share(SecretShare(dealer=1, recipient=2, value="01" + "00" * 31), dids[1])
    await w.act(
        w.admin,
        "commit_trustee",
        {"poll": poll, "commitment": msgspec.to_builtins(commitment), "shares": [msgspec.to_builtins(wrong)]},
    )
    commitment2, sealed2 = deal_as_trustee(w.members[0].signing_key.sign, crypto_id, 2, 2, dids, rng)
    await w.act(
        w.members[0],
        "commit_trustee",
        {
            "poll": poll,
            "commitment": msgspec.to_builtins(commitment2),
            "shares": msgspec.to_builtins(sealed2),
        },
    )
    view = await w.governance.get_poll(PollQuery(w.community, poll))
    _key(w.admin, view, 1)  # trustee 1 received an honest share
    with pytest.raises(ShareRejected) as cheated:
        _key(w.members[0], view, 2)
    assert (cheated.value.dealer, cheated.value.recipient) == (1, 2)


async def test_the_last_trustees_part_is_recorded_when_the_scheduler_opens_the_poll_at_the_same_moment() -> (
    None
):
    """Her part is saved; the scheduler's tick opens the poll before her own request can: she is
    told her part is made and the poll is open, not "nothing was recorded"."""
    w = await world(2)
    trustees = [w.admin, w.members[0]]
    dids = [t.did for t in trustees]
    poll, crypto_id = await _created(w, trustees, threshold=2)
    rng = SystemRandomness()

    def part(index: int) -> dict[str, Any]:
        commitment, sealed = deal_as_trustee(
            trustees[index - 1].signing_key.sign, crypto_id, index, 2, dids, rng
        )
        return {
            "poll": poll,
            "commitment": msgspec.to_builtins(commitment),
            "shares": msgspec.to_builtins(sealed),
        }

    await w.act(w.admin, "commit_trustee", part(1))
    opening = w.governance.open
    stale_statuses: list[str] = []

    async def scheduler_first(stale: Any) -> None:
        stale_statuses.append(stale.status)
        w.governance.open = opening  # type: ignore[method-assign]
        assert await w.governance.tick() == 1  # the tick sees every part made, and opens the poll
        await opening(stale)  # her request's poll is now one commit behind: a conflict

    w.governance.open = scheduler_first  # type: ignore[method-assign]
    answer = await w.act(w.members[0], "commit_trustee", part(2))
    assert stale_statuses == ["created"]
    assert answer["status"] == "open"
    assert [c["dealer"] for c in answer["commitments"]] == [1, 2]
    opened = [n for _, n in w.notices.sent if n["kind"] == "poll_opened" and n["poll"] == poll]
    assert len(opened) == 1  # opened once, by the scheduler
    history = w.governance.app.history(poll_id(w.community, poll))
    assert sum(isinstance(e, PollOpened) for e in history) == 1
