"""Trustees act at the same moment (they are told together that their part is wanted, and their
apps answer at once): each act lands on the same poll. A save that loses the race to another
trustee is decided again on the fresh poll, as the service's router does for every signed command,
so nobody is told "changed concurrently, try again" for an act that nothing forbids."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from services.governance.crypto import (
    BallotRules,
    EncryptedTally,
    PollKey,
    SystemRandomness,
    deal_as_trustee,
    encrypt_ballot,
    partial_decrypt,
)
from services.governance.domain.commands import PollQuery
from services.governance.domain.events import PollOpened
from services.governance.domain.poll import poll_id
from shared.retry import retrying
from shared.trust.member_keys import MemberKeys

from .test_governance_support import World, world
from .test_governance_trustee_ceremony import _created, _key

SPEC = {"kind": "single", "title": "Treasurer", "options": ["Ann", "Bo"], "threshold_pct": 0}


async def act(w: World, keys: MemberKeys, action: str, body: dict[str, Any]) -> Any:
    """As the governance router runs a signed command: retried when its save loses a race."""
    return await retrying(lambda: w.act(keys, action, body))


async def test_trustees_who_answer_at_the_same_moment_are_all_recorded_and_the_poll_opens_once() -> None:
    w = await world(3)
    trustees = [w.admin, *w.members[:3]]
    dids = [t.did for t in trustees]
    poll, crypto_id = await _created(w, trustees, threshold=3)
    rng = SystemRandomness()
    parts = []
    for index, keys in enumerate(trustees, start=1):
        commitment, sealed = deal_as_trustee(keys.signing_key.sign, crypto_id, index, 3, dids, rng)
        dealt = {"commitment": msgspec.to_builtins(commitment), "shares": msgspec.to_builtins(sealed)}
        parts.append({"poll": poll, **dealt})

    # A rival trustee's part is committed between each one's load and her save, the first time.
    original = w.governance.save
    raced: list[str] = []

    async def save(*aggregates: Any) -> None:
        if len(raced) == 0:
            raced.append("trustee 2 loses to trustee 4")
            await act(w, trustees[3], "commit_trustee", parts[3])
        await original(*aggregates)

    await act(w, trustees[0], "commit_trustee", parts[0])
    w.governance.save = save  # type: ignore[method-assign]
    second = await act(w, trustees[1], "commit_trustee", parts[1])
    w.governance.save = original  # type: ignore[method-assign]
    assert raced
    assert second["status"] == "created"
    assert sorted(c["dealer"] for c in second["commitments"]) == [1, 2, 4]  # the rival's part kept

    # The last one, while the scheduler ticks at the same moment.
    answers = await asyncio.gather(act(w, trustees[2], "commit_trustee", parts[2]), w.governance.tick())
    view = await w.governance.get_poll(PollQuery(w.community, poll))
    assert view["status"] == "open", answers
    history = w.governance.app.history(poll_id(w.community, poll))
    assert sum(isinstance(e, PollOpened) for e in history) == 1

    # Voting, closing, and then every trustee decrypts at once: all are recorded, one decides.
    rules = msgspec.convert(view["ballot_rules"], BallotRules)
    key = PollKey(crypto_id, view["public_key"], rules)
    for voter, votes in ((w.admin, [1, 0]), (w.members[0], [0, 1]), (w.members[1], [0, 1])):
        ballot = encrypt_ballot(key, voter.did, votes, rng)
        await act(w, voter, "cast_ballot", {"poll": poll, "ballot": msgspec.to_builtins(ballot)})
    closed = await act(w, w.admin, "close_poll", {"poll": poll})
    tally = msgspec.convert(closed["encrypted_tally"], EncryptedTally)
    view = await w.governance.get_poll(PollQuery(w.community, poll))
    partials = [
        {"poll": poll, "partial": msgspec.to_builtins(partial_decrypt(tally, _key(keys, view, i), rng))}
        for i, keys in enumerate(trustees[:3], start=1)
    ]
    done = await asyncio.gather(
        *(act(w, t, "submit_partial_decryption", p) for t, p in zip(trustees[:3], partials, strict=True))
    )
    decided = [answer for answer in done if answer.get("result") is not None]
    assert decided, done
    assert decided[-1]["result"]["totals"] == {"Ann": 1, "Bo": 2}
    view = await w.governance.get_poll(PollQuery(w.community, poll))
    assert view["result"]["totals"] == {"Ann": 1, "Bo": 2}
