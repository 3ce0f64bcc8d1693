"""Membership at the service layer (in-memory store, fake identity): communities and the lifecycle."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from services.membership.domain.commands import CreateCommunity, MemberQuery, RollQuery
from services.membership.domain.policy import MembershipType, Policy, ScreeningQuestion
from shared.commands import CommandRejected
from shared.domain import DomainError
from shared.trust.credentials import issue_credential
from shared.trust.dtg_membership import membership_acknowledgement

from .test_membership_support import admitted_member, community_with_admin, person, service, signed, slug


async def test_the_creator_of_a_community_is_its_first_admin_with_credentials() -> None:
    handlers, identity = service()
    community, admin = await community_with_admin(handlers)
    view = await handlers.get_community(community)
    assert (view["name"], view["did"]) == ("River Co-op", identity.keys[community].did)
    founder = await handlers.member(MemberQuery(community, admin.did))
    assert (founder["status"], founder["roles"]) == ("active", ["admin", "member"])
    kinds = [(c, t, s) for c, t, s, _ in identity.issued]
    assert kinds == [
        (community, "MembershipCredential", admin.did),
        (community, "AuthorityCredential", admin.did),
    ]
    with pytest.raises(DomainError) as again:
        await handlers.create_community(CreateCommunity(slug=community, name="Again", admin=person().did))
    assert again.value.code == "community_exists"


async def test_the_hosting_operator_creates_a_community_for_an_explicit_admin() -> None:
    handlers, _ = service()
    community, admin = slug(), person()
    await handlers.create_community(CreateCommunity(slug=community, name="Guild", admin=admin.did))
    assert (await handlers.member(MemberQuery(community, admin.did)))["roles"] == ["admin", "member"]
    with pytest.raises(DomainError) as neither:
        await handlers.create_community(CreateCommunity(slug=slug(), name="Guild"))
    assert neither.value.code == "invalid_request"


async def test_an_application_with_answers_is_admitted_credentialed_and_acknowledged() -> None:
    policy = Policy(
        join_mode="open_with_approval",
        screening_questions=(ScreeningQuestion("why", "Why do you want to join?"),),
    )
    handlers, _ = service()
    community, admin = await community_with_admin(handlers, policy)
    bea = person()
    with pytest.raises(DomainError) as unanswered:
        await handlers.apply(signed(bea, "apply", community, {"name": "Bea"}))
    assert unanswered.value.code == "unanswered_question"
    applied = await handlers.apply(
        signed(bea, "apply", community, {"name": "Bea", "answers": {"why": "rivers"}})
    )
    assert applied["status"] == "applied"
    with pytest.raises(DomainError) as twice:
        await handlers.apply(signed(bea, "apply", community, {"name": "Bea", "answers": {"why": "x"}}))
    assert twice.value.code == "duplicate_member"

    admitted = await handlers.admit(signed(admin, "admit", community, {"member": bea.did}))
    assert (admitted["status"], admitted["standing"]) == ("active", "active")
    grant = admitted["credential"]
    assert grant["credentialSubject"]["id"] == bea.did
    assert grant["credentialStatus"][0]["statusPurpose"] == "revocation"

    now = datetime.now(tz=UTC).replace(microsecond=0)
    ack = issue_credential(membership_acknowledgement(grant, valid_from=now), bea, created=now)
    done = await handlers.acknowledge(signed(bea, "acknowledge", community, {"acknowledgement": ack}))
    assert done["acknowledged"] is True
    stranger = person()
    not_hers = membership_acknowledgement(grant, valid_from=now) | {"issuer": stranger.did}
    forged = issue_credential(not_hers, stranger, created=now)
    with pytest.raises(DomainError) as refused:
        await handlers.acknowledge(signed(bea, "acknowledge", community, {"acknowledgement": forged}))
    assert refused.value.code == "invalid_acknowledgement"
    roll = await handlers.roll_at(RollQuery(community))
    assert roll["members"] == sorted([admin.did, bea.did])


async def test_invite_only_admits_by_invitation_code_and_refuses_strangers() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers, Policy(join_mode="invite_only"))
    with pytest.raises(DomainError) as uninvited:
        await handlers.apply(signed(person(), "apply", community, {"name": "Eve"}))
    assert uninvited.value.code == "invitation_required"

    invited = await handlers.invite(
        signed(admin, "invite", community, {"name": "Cy", "email": "Cy@River.example", "tags": ["founder"]})
    )
    assert invited["status"] == "invited"
    with pytest.raises(DomainError) as duplicate:
        await handlers.invite(signed(admin, "invite", community, {"name": "Cy", "email": "cy@river.example"}))
    assert duplicate.value.code == "duplicate_member"

    cy = person()
    wrong = {"invitation": {"email": "cy@river.example", "code": "guess"}}
    with pytest.raises(DomainError) as guessed:
        await handlers.apply(signed(cy, "apply", community, wrong))
    assert guessed.value.code == "invalid_invitation"
    right = {"invitation": {"email": "cy@river.example", "code": invited["code"]}}
    joined = await handlers.apply(signed(cy, "apply", community, right))
    assert (joined["status"], joined["did"], joined["tags"]) == ("active", cy.did, ["founder"])
    with pytest.raises(DomainError) as reused:
        await handlers.apply(signed(person(), "apply", community, right))
    assert reused.value.code == "invitation_used"


async def test_an_admin_of_one_community_cannot_act_on_another() -> None:
    handlers, _ = service()
    first, first_admin = await community_with_admin(handlers)
    second, second_admin = await community_with_admin(handlers)
    bea = await admitted_member(handlers, second, second_admin)

    with pytest.raises(DomainError) as foreign:
        await handlers.suspend(signed(first_admin, "suspend", second, {"member": bea.did}))
    assert (foreign.value.code, foreign.value.status) == ("not_an_admin", 403)
    presented_elsewhere = signed(first_admin, "suspend", first, {"member": bea.did})
    presented_elsewhere.community = second
    with pytest.raises(CommandRejected) as misdirected:
        await handlers.suspend(presented_elsewhere)
    assert misdirected.value.type == "wrong_community"
    with pytest.raises(DomainError) as plain_member:
        await handlers.suspend(signed(bea, "suspend", second, {"member": second_admin.did}))
    assert plain_member.value.code == "not_an_admin"
    assert (await handlers.member(MemberQuery(second, bea.did)))["status"] == "active"


async def test_suspension_flips_the_status_bit_and_a_suspended_member_cannot_act() -> None:
    handlers, identity = service()
    community, admin = await community_with_admin(handlers)
    bea = await admitted_member(handlers, community, admin)
    await handlers.assign_roles(
        signed(admin, "assign_roles", community, {"member": bea.did, "roles": ["admin"]})
    )
    suspended = await handlers.suspend(
        signed(admin, "suspend", community, {"member": bea.did, "reason": "spam"})
    )
    assert suspended["status"] == "suspended"
    index = suspended["credential"]["credentialStatus"][0]["statusListIndex"]
    assert identity.status[(community, int(index), "suspension")] is True

    with pytest.raises(DomainError) as acting:
        await handlers.update_profile(signed(bea, "update_profile", community, {"name": "B."}))
    assert acting.value.code == "member_suspended"
    with pytest.raises(DomainError) as as_admin:
        await handlers.invite(signed(bea, "invite", community, {"name": "Di", "email": "di@x.example"}))
    assert as_admin.value.code == "member_suspended"
    assert bea.did not in (await handlers.roll_at(RollQuery(community)))["members"]

    await handlers.reinstate(signed(admin, "reinstate", community, {"member": bea.did}))
    assert identity.status[(community, int(index), "suspension")] is False
    assert bea.did in (await handlers.roll_at(RollQuery(community)))["members"]


async def test_leaving_and_removal_revoke_the_credential_and_leave_the_roll() -> None:
    handlers, identity = service()
    community, admin = await community_with_admin(handlers)
    bea = await admitted_member(handlers, community, admin, "Bea")
    cy = await admitted_member(handlers, community, admin, "Cy")
    left = await handlers.leave(signed(bea, "leave", community))
    removed = await handlers.remove(signed(admin, "remove", community, {"member": cy.did, "reason": "fraud"}))
    for view in (left, removed):
        index = int(view["credential"]["credentialStatus"][0]["statusListIndex"])
        assert identity.status[(community, index, "revocation")] is True
    assert (await handlers.roll_at(RollQuery(community)))["members"] == [admin.did]


async def test_terms_expire_after_the_grace_period_and_renewal_issues_a_new_credential() -> None:
    policy = Policy(membership_types=(MembershipType("annual", duration_days=365, grace_days=30),))
    handlers, identity = service()
    community, admin = await community_with_admin(handlers, policy)
    bea = await admitted_member(handlers, community, admin)
    day = 24 * 3600

    def at(days: int) -> str:
        return datetime.fromtimestamp(datetime.now(tz=UTC).timestamp() + days * day, tz=UTC).isoformat()

    assert bea.did in (await handlers.roll_at(RollQuery(community, at(380))))["members"]
    assert bea.did not in (await handlers.roll_at(RollQuery(community, at(396))))["members"]
    before = len(identity.issued)
    renewed = await handlers.renew(signed(admin, "renew", community, {"member": bea.did}))
    assert len(identity.issued) == before + 1
    first = handlers.app.member_by_did(community, bea.did).credentials[0].credential
    assert renewed["credential"]["validUntil"] > first["validUntil"]
    assert bea.did in (await handlers.roll_at(RollQuery(community, at(396))))["members"]


async def test_nothing_is_recorded_when_identity_cannot_issue() -> None:
    handlers, identity = service()
    community, admin = await community_with_admin(handlers)
    bea = person()
    await handlers.apply(signed(bea, "apply", community, {"name": "Bea"}))
    identity.available = False
    with pytest.raises(DomainError) as down:
        await handlers.admit(signed(admin, "admit", community, {"member": bea.did}))
    assert (down.value.code, down.value.status) == ("credentials_unavailable", 503)
    assert (await handlers.member(MemberQuery(community, bea.did)))["status"] == "applied"
    identity.available = True
    assert (await handlers.admit(signed(admin, "admit", community, {"member": bea.did})))[
        "status"
    ] == "active"


async def test_custom_roles_are_granted_as_authority_credentials_and_unknown_roles_refused() -> None:
    handlers, identity = service()
    community, admin = await community_with_admin(handlers, Policy(roles=("treasurer",)))
    bea = await admitted_member(handlers, community, admin)
    with pytest.raises(DomainError) as unknown:
        await handlers.assign_roles(
            signed(admin, "assign_roles", community, {"member": bea.did, "roles": ["king"]})
        )
    assert unknown.value.code == "unknown_role"
    view = await handlers.assign_roles(
        signed(admin, "assign_roles", community, {"member": bea.did, "roles": ["treasurer"]})
    )
    assert view["roles"] == ["member", "treasurer"]
    assert identity.issued[-1][1:] == (
        "AuthorityCredential",
        bea.did,
        {"community": community, "roles": ["treasurer"]},
    )


async def test_a_replayed_statement_and_an_archived_community_are_refused() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers)
    bea = person()
    applying = signed(bea, "apply", community, {"name": "Bea"})
    await handlers.apply(applying)
    with pytest.raises(CommandRejected) as replayed:
        await handlers.apply(applying)
    assert (replayed.value.type, replayed.value.status) == ("statement_replayed", 401)
    await handlers.archive_community(signed(admin, "archive_community", community, {"reason": "merged"}))
    with pytest.raises(DomainError) as archived:
        await handlers.admit(signed(admin, "admit", community, {"member": bea.did}))
    assert archived.value.code == "community_archived"


async def test_an_admin_configures_the_policy_and_edits_profiles_but_a_member_cannot() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers)
    bea = await admitted_member(handlers, community, admin)
    policy = {"join_mode": "invite_only", "roles": ["steward"], "profile_fields": [{"name": "city"}]}
    with pytest.raises(DomainError) as member:
        await handlers.configure_community(signed(bea, "configure_community", community, {"policy": policy}))
    assert member.value.code == "not_an_admin"
    view = await handlers.configure_community(
        signed(admin, "configure_community", community, {"name": "River Guild", "policy": policy})
    )
    assert (view["name"], view["policy"].join_mode) == ("River Guild", "invite_only")
    assert "steward" in view["policy"].roles
    with pytest.raises(DomainError) as bad:
        await handlers.configure_community(
            signed(admin, "configure_community", community, {"policy": {"membership_types": []}})
        )
    assert bad.value.code == "invalid_policy"

    edited = await handlers.update_profile(
        signed(admin, "update_profile", community, {"member": bea.did, "profile": {"city": "Ghent"}})
    )
    assert edited["did"] == bea.did
    with pytest.raises(DomainError) as unknown_field:
        await handlers.update_profile(signed(bea, "update_profile", community, {"profile": {"shoe": "41"}}))
    assert unknown_field.value.code == "unknown_profile_field"
    with pytest.raises(DomainError) as not_admin:
        await handlers.update_profile(
            signed(bea, "update_profile", community, {"member": admin.did, "name": "Mallory"})
        )
    assert not_admin.value.code == "not_an_admin"


async def test_a_pending_application_can_be_turned_down_and_nobody_removes_herself() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers)
    bea = person()
    await handlers.apply(signed(bea, "apply", community, {"name": "Bea"}))
    rejected = await handlers.reject(
        signed(admin, "reject", community, {"member": bea.did, "reason": "spam"})
    )
    assert rejected["status"] == "rejected"
    with pytest.raises(DomainError) as admit_rejected:
        await handlers.admit(signed(admin, "admit", community, {"member": bea.did}))
    assert admit_rejected.value.code == "already_admitted"
    with pytest.raises(DomainError) as self_removal:
        await handlers.remove(signed(admin, "remove", community, {"member": admin.did}))
    assert self_removal.value.code == "self_removal"


async def test_a_concurrent_admission_is_refused_as_a_conflict_and_its_credential_revoked() -> None:
    handlers, identity = service()
    community, admin = await community_with_admin(handlers)
    bea = person()
    await handlers.apply(signed(bea, "apply", community, {"name": "Bea"}))
    both_loaded, issue = asyncio.Barrier(2), identity.issue

    async def issue_together(*args: Any) -> Any:
        await both_loaded.wait()  # both admissions have read the member before either records
        return await issue(*args)

    identity.issue = issue_together  # type: ignore[method-assign]
    results = await asyncio.gather(
        handlers.admit(signed(admin, "admit", community, {"member": bea.did})),
        handlers.admit(signed(admin, "admit", community, {"member": bea.did})),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    admitted = [r for r in results if isinstance(r, dict)]
    assert [r.code for r in refused] == ["conflict"]
    kept = int(admitted[0]["credential"]["credentialStatus"][0]["statusListIndex"])
    revoked = [
        index for (c, index, purpose), value in identity.status.items() if purpose == "revocation" and value
    ]
    assert len(revoked) == 1
    assert revoked != [kept]


async def test_the_last_admin_cannot_leave_until_she_appoints_another() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers)
    bea = await admitted_member(handlers, community, admin, "Bea")
    with pytest.raises(DomainError) as refused:
        await handlers.leave(signed(admin, "leave", community))
    assert refused.value.code == "last_admin"
    await handlers.assign_roles(
        signed(admin, "assign_roles", community, {"member": bea.did, "roles": ["member", "admin"]})
    )
    left = await handlers.leave(signed(admin, "leave", community))
    assert left["status"] == "left"
