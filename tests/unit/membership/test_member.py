"""The member aggregate decides lifecycle events purely; standing follows the term and grace period."""

from __future__ import annotations

import pytest

from services.membership.domain.events import (
    MemberAdmitted,
    MemberApplied,
    MembershipRenewed,
    MemberSuspended,
)
from services.membership.domain.member import Member
from services.membership.domain.policy import DAY_NS, MembershipType, Policy
from shared.domain import DomainError

ANNUAL = MembershipType("annual", duration_days=365, grace_days=30)
T0 = 1_700_000_000 * 10**9


def applied() -> Member:
    return Member.replay(
        None,
        [
            MemberApplied(
                originator_id="acme.member.m1",
                originator_version=1,
                occurred_ns=T0,
                did="did:key:z6Mkbea",
                name="Bea",
                answers={},
                profile={},
                membership_type="annual",
            )
        ],
    ) or Member("never")


def test_given_an_application_when_admitted_then_the_term_and_grace_are_fixed_from_now() -> None:
    member = applied()
    member.admit(kind=ANNUAL, roles=("member",), by="did:key:z6Mkada", statement=None, now=T0)
    [event] = member.collect_events()
    assert isinstance(event, MemberAdmitted)
    assert (event.expires_ns, event.grace_ns) == (T0 + 365 * DAY_NS, 30 * DAY_NS)
    assert member.standing(T0 + 364 * DAY_NS) == "active"
    assert member.standing(T0 + 380 * DAY_NS) == "in_grace"
    assert member.in_good_standing(T0 + 380 * DAY_NS)
    assert member.standing(T0 + 395 * DAY_NS) == "expired"
    with pytest.raises(DomainError) as expired:
        member.require_may_act(T0 + 400 * DAY_NS)
    assert expired.value.code == "membership_expired"


def test_renewal_extends_from_the_end_of_the_term_not_from_now() -> None:
    member = applied()
    member.admit(kind=ANNUAL, roles=("member",), by="a", statement=None, now=T0)
    member.renew(kind=ANNUAL, by="a", statement=None, now=T0 + 300 * DAY_NS)
    renewed = member.collect_events()[-1]
    assert isinstance(renewed, MembershipRenewed)
    assert renewed.expires_ns == T0 + 730 * DAY_NS


def test_a_suspended_member_cannot_act_but_can_leave() -> None:
    member = applied()
    member.admit(kind=ANNUAL, roles=("member",), by="a", statement=None, now=T0)
    member.suspend(reason="spam", by="a", statement=None, now=T0 + 1)
    assert isinstance(member.collect_events()[-1], MemberSuspended)
    with pytest.raises(DomainError) as acting:
        member.require_may_act(T0 + 2)
    assert acting.value.code == "member_suspended"
    assert not member.in_good_standing(T0 + 2)
    with pytest.raises(DomainError):
        member.suspend(reason="again", by="a", statement=None, now=T0 + 3)
    member.leave(statement=None, now=T0 + 4)
    assert member.status == "left"
    with pytest.raises(DomainError) as gone:
        member.reinstate(by="a", statement=None, now=T0 + 5)
    assert gone.value.code == "not_suspended"


def test_a_policy_keeps_built_in_roles_and_refuses_bad_terms_and_names() -> None:
    policy = Policy(roles=("treasurer",)).checked()
    assert policy.roles == ("admin", "moderator", "member", "treasurer")
    assert policy.check_roles(("treasurer",)) == ("member", "treasurer")
    for bad in (
        Policy(membership_types=()),
        Policy(membership_types=(MembershipType("x", duration_days=0),)),
        Policy(roles=("Not A Name",)),
        Policy(join_mode="anyone"),  # type: ignore[arg-type]
    ):
        with pytest.raises(DomainError) as refused:
            bad.checked()
        assert refused.value.code == "invalid_policy"
