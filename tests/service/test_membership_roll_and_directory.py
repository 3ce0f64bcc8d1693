"""Membership at the service layer: roll snapshots, the directory and each member's audit trail."""

from __future__ import annotations

import hashlib

from services.membership.domain.commands import (
    CommunitiesQuery,
    DirectoryQuery,
    MemberQuery,
    RollQuery,
    SnapshotQuery,
)
from services.membership.domain.policy import Policy, ProfileField

from .test_membership_support import admitted_member, community_with_admin, person, service, signed


def rfc9162_root(dids: list[str]) -> str:
    """An independent Merkle Tree Hash (RFC 9162 §2.1.1), written from the RFC's definition."""

    def mth(items: list[bytes]) -> bytes:
        if not items:
            return hashlib.sha256(b"").digest()
        if len(items) == 1:
            return hashlib.sha256(b"\x00" + items[0]).digest()
        k = 1
        while k * 2 < len(items):
            k *= 2
        return hashlib.sha256(b"\x01" + mth(items[:k]) + mth(items[k:])).digest()

    return mth([d.encode() for d in dids]).hex()


async def test_a_roll_snapshot_commits_the_sorted_members_and_their_merkle_root() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers)
    members = [await admitted_member(handlers, community, admin, name) for name in ("Bea", "Cy", "Di", "Ed")]
    await handlers.suspend(signed(admin, "suspend", community, {"member": members[0].did}))

    snapshot = await handlers.snapshot_roll(RollQuery(community))
    expected = sorted([admin.did, *(m.did for m in members[1:])])
    assert snapshot["members"] == expected
    assert (snapshot["size"], snapshot["root"]) == (4, rfc9162_root(expected))
    recorded = await handlers.get_snapshot(SnapshotQuery(community, snapshot["snapshot"]))
    assert recorded == snapshot
    history = handlers.app.history(f"{community}.roll.{snapshot['snapshot']}")
    assert [type(e).__struct_config__.tag for e in history] == ["membership.roll_snapshotted.v1"]


async def test_the_directory_searches_and_filters_by_name_role_status_type_and_tag() -> None:
    policy = Policy(roles=("treasurer",), profile_fields=(ProfileField("city", "City"),))
    handlers, _ = service()
    community, admin = await community_with_admin(handlers, policy)
    bea = await admitted_member(handlers, community, admin, "Bea Lind")
    cy = await admitted_member(handlers, community, admin, "Cy Moss")
    await handlers.assign_roles(
        signed(admin, "assign_roles", community, {"member": bea.did, "roles": ["treasurer"]})
    )
    await handlers.update_profile(
        signed(bea, "update_profile", community, {"profile": {"city": "Ghent"}, "tags": ["board"]})
    )
    await handlers.suspend(signed(admin, "suspend", community, {"member": cy.did}))
    await handlers.invite(signed(admin, "invite", community, {"name": "Di Park", "email": "di@x.example"}))

    async def names(**filters: str) -> list[str]:
        found = await handlers.directory_search(DirectoryQuery(community, **filters))
        return [entry["name"] for entry in found["members"]]

    assert await names() == ["Ada", "Bea Lind", "Cy Moss", "Di Park"]
    assert await names(text="ghent") == ["Bea Lind"]
    assert await names(role="treasurer") == ["Bea Lind"]
    assert await names(status="suspended") == ["Cy Moss"]
    assert await names(status="invited") == ["Di Park"]
    assert await names(tag="board") == ["Bea Lind"]
    assert await names(type="standard", status="active") == ["Ada", "Bea Lind"]


async def test_each_member_has_an_audit_trail_of_who_changed_what_with_signed_statements() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers)
    bea = await admitted_member(handlers, community, admin)
    await handlers.suspend(signed(admin, "suspend", community, {"member": bea.did, "reason": "late"}))

    trail = (await handlers.audit_trail(MemberQuery(community, bea.did)))["trail"]
    changes = [(e["change"], e["by"]) for e in trail]
    assert changes == [
        ("membership.member_applied.v1", bea.did),
        ("membership.member_admitted.v1", admin.did),
        ("membership.credential_issued.v1", "membership-service"),
        ("membership.member_suspended.v1", admin.did),
        ("membership.credential_status_set.v1", "membership-service"),
    ]
    suspended = trail[3]["statement"]
    assert (suspended["actor"], suspended["action"], suspended["body"]["reason"]) == (
        admin.did,
        "membership.suspend",
        "late",
    )
    assert "proof" in suspended


async def test_the_hosting_provider_lists_every_community_with_its_member_counts() -> None:
    handlers, _ = service()
    river, river_admin = await community_with_admin(handlers)
    await admitted_member(handlers, river, river_admin, "Bea")
    suspended = await admitted_member(handlers, river, river_admin, "Cy")
    await handlers.suspend(signed(river_admin, "suspend", river, {"member": suspended.did}))
    await handlers.apply(signed(person(), "apply", river, {"name": "Di"}))
    hill, hill_admin = await community_with_admin(handlers)
    await handlers.configure_community(
        signed(hill_admin, "configure_community", hill, {"name": "Hill Bakers"})
    )

    listed = await handlers.list_communities(CommunitiesQuery())
    by_slug = {c["slug"]: c for c in listed["communities"]}
    assert listed["count"] == 2
    assert set(by_slug) == {river, hill}
    assert by_slug[river]["members"] == {"active": 2, "applied": 1, "suspended": 1}
    assert by_slug[river]["name"] == "River Co-op"
    assert by_slug[river]["created_by"] == river_admin.did
    assert by_slug[river]["did"].startswith("did:")
    assert by_slug[hill]["name"] == "Hill Bakers"  # as configured since
    assert by_slug[hill]["members"] == {"active": 1}
    assert by_slug[hill]["last_change_at"] >= by_slug[hill]["created_at"]

    # Searched by slug or name; an archived community is left out unless asked for.
    searched = await handlers.list_communities(CommunitiesQuery(text="bakers"))
    assert [c["slug"] for c in searched["communities"]] == [hill]
    await handlers.archive_community(signed(hill_admin, "archive_community", hill, {"reason": "merged"}))
    assert [c["slug"] for c in (await handlers.list_communities(CommunitiesQuery()))["communities"]] == [
        river
    ]
    everything = (await handlers.list_communities(CommunitiesQuery(include_archived=True)))["communities"]
    assert [c["archived_at"] is not None for c in everything if c["slug"] == hill] == [True]
