"""The roll at an instant follows the history as it stood then, not as it stands now."""

from __future__ import annotations

from services.membership.domain.events import (
    MemberAdmitted,
    MemberLeft,
    MemberReinstated,
    MembershipRenewed,
    MemberSuspended,
)
from services.membership.projections.roll import RollView

ADA = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
ID = "acme.member.ada"


def test_suspension_reinstatement_departure_and_terms_count_at_their_own_instants() -> None:
    roll = RollView()
    events = [
        MemberAdmitted(
            originator_id=ID, originator_version=1, occurred_ns=10, did=ADA, name="Ada",
            membership_type="full", roles=("member",), term_start_ns=10, expires_ns=100,
            grace_ns=10, by=ADA,
        ),
        MemberSuspended(originator_id=ID, originator_version=2, occurred_ns=30, reason="dues", by=ADA),
        MemberReinstated(originator_id=ID, originator_version=3, occurred_ns=50, by=ADA),
        MembershipRenewed(
            originator_id=ID, originator_version=4, occurred_ns=105, expires_ns=200, grace_ns=10,
            by=ADA,
        ),
        MemberLeft(originator_id=ID, originator_version=5, occurred_ns=150),
    ]  # fmt: skip
    for event in events:
        roll.apply(event)
    expectations = {
        5: False,  # not yet admitted
        20: True,
        30: False,  # suspended from this instant
        40: False,
        60: True,  # reinstated
        107: True,  # in grace of the first term, already renewed
        140: True,  # renewed term
        150: False,  # left
        500: False,
    }
    assert {at: roll.is_eligible("acme", ADA, at) for at in expectations} == expectations
    assert roll.members("acme", 20) == [ADA]
    assert roll.members("other", 20) == []
