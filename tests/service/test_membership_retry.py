"""Membership settles its own optimistic-concurrency conflicts: the caller sees the outcome.

A command whose save loses the race to another commit is run again from its loads; the member's
statement is verified and its nonce claimed once (a retry is not a replay), and what the winner
committed is kept. Races that never end are refused as `busy` (503) with nothing recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.membership.domain.commands import MemberQuery
from services.membership.handlers import MembershipHandlers
from services.membership.retry import MAX_ATTEMPTS, Busy, retrying

from .test_membership_support import admitted_member, community_with_admin, service, signed

Saver = Callable[..., Any]


def race_on_save(handlers: MembershipHandlers, rival: Callable[[Saver], None], losses: int) -> list[int]:
    """The next `losses` saves each find that `rival()` committed first (a real commit to the same
    member, so the save's expected version is stale and the store refuses it)."""
    app = handlers.app
    original = app.save
    lost = [0]

    def save(*aggregates: Any, **kwargs: Any) -> Any:
        if lost[0] < losses:
            lost[0] += 1
            rival(original)
        return original(*aggregates, **kwargs)

    app.save = save  # type: ignore[method-assign]
    return lost


async def test_a_lost_race_is_retried_on_fresh_state_and_keeps_the_winners_change() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers)
    bea = await admitted_member(handlers, community, admin)

    def rival(save: Saver) -> None:  # an admin's concurrent edit of Bea's tags, committed first
        member = handlers.app.member_by_did(community, bea.did)
        member.update_profile(
            name=member.name, profile={}, tags=("board",), by=admin.did, statement=None, now=handlers.clock()
        )
        save(member)

    lost = race_on_save(handlers, rival, losses=2)
    command = signed(bea, "update_profile", community, {"name": "Bea Lind"})
    view = await retrying(lambda: handlers.update_profile(command))

    assert lost == [2]
    assert view["name"] == "Bea Lind"
    record = await handlers.member(MemberQuery(community, bea.did))
    assert (record["name"], record["tags"]) == ("Bea Lind", ["board"])
    trail = (await handlers.audit_trail(MemberQuery(community, bea.did)))["trail"]
    renamed = [
        entry for entry in trail if entry["by"] == bea.did and entry["change"].endswith("profile_updated.v1")
    ]
    assert len(renamed) == 1  # applied once, after the winners' commits


async def test_races_that_never_end_are_refused_as_busy_with_nothing_recorded() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers)
    bea = await admitted_member(handlers, community, admin)

    def rival(save: Saver) -> None:
        member = handlers.app.member_by_did(community, bea.did)
        member.update_profile(
            name=member.name, profile={}, tags=("x",), by=admin.did, statement=None, now=handlers.clock()
        )
        save(member)

    before = (await handlers.member(MemberQuery(community, bea.did)))["name"]
    lost = race_on_save(handlers, rival, losses=10**6)
    command = signed(bea, "update_profile", community, {"name": "Never"})
    with pytest.raises(Busy) as refused:
        await retrying(lambda: handlers.update_profile(command))
    assert (refused.value.code, refused.value.status) == ("busy", 503)
    assert lost[0] >= MAX_ATTEMPTS
    assert (await handlers.member(MemberQuery(community, bea.did)))["name"] == before
