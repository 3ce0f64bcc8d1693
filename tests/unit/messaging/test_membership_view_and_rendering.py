"""The membership projection messaging gates with, the live-notice filter, and sanitised rendering."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from services.gateway.routers.live import may_see
from services.messaging.adapters.membership_feed import MembershipView
from services.messaging.domain.errors import Forbidden
from shared.envelope import Commit, EventRecord
from shared.rendering import render

BEA = "did:key:z6Mkbea"
DAY = 86_400 * 10**9


def commit(community: str, *events: tuple[str, dict[str, Any]]) -> Commit:
    records = [
        EventRecord(
            tag,
            i + 1,
            msgspec.msgpack.encode(
                {"type": tag, "originator_id": f"{community}.member.m1", "occurred_ns": 100} | fields
            ),
        )
        for i, (tag, fields) in enumerate(events)
    ]
    return Commit(
        commit_id="c",
        community=community,
        subject=f"membership.{community}.member.m1",
        originator_id=f"{community}.member.m1",
        originator_id_kind="str",
        first_version=1,
        last_version=len(records),
        event_types=[r.topic for r in records],
        timestamp_ns=100,
        signer="did:key:x",
        events=records,
    )


ADMITTED = (
    "membership.member_admitted.v1",
    {
        "did": BEA,
        "name": "Bea",
        "membership_type": "supporter",
        "roles": ["member"],
        "expires_ns": 10 * DAY,
        "grace_ns": DAY,
    },
)


def test_standing_follows_admission_suspension_and_term_per_community() -> None:
    view = MembershipView()
    applied = ("membership.member_applied.v1", {"did": BEA, "name": "Bea", "membership_type": "standard"})
    assert view.apply(1, commit("acme", applied)) == []
    with pytest.raises(Forbidden) as applicant:
        view.require_good_standing("acme", BEA, 0)
    assert applicant.value.code == "not_a_member"
    assert view.apply(2, commit("acme", ADMITTED)) == [("acme", BEA, 100)]
    assert view.apply(2, commit("acme", ADMITTED)) == []  # the same sequence twice is applied once
    record = view.require_good_standing("acme", BEA, 0)
    assert (record.membership_type, record.roles) == ("supporter", ("member",))
    with pytest.raises(Forbidden) as elsewhere:
        view.require_good_standing("other", BEA, 0)
    assert elsewhere.value.code == "not_a_member"
    with pytest.raises(Forbidden) as expired:
        view.require_good_standing("acme", BEA, 12 * DAY)
    assert expired.value.code == "membership_expired"

    view.apply(3, commit("acme", ("membership.member_suspended.v1", {"reason": "x", "by": "did:key:ada"})))
    with pytest.raises(Forbidden) as suspended:
        view.require_good_standing("acme", BEA, 0)
    assert suspended.value.code == "member_suspended"
    view.apply(
        4,
        commit(
            "acme",
            ("membership.member_reinstated.v1", {"by": "did:key:ada"}),
            ("membership.profile_updated.v1", {"name": "Bea", "profile": {}, "tags": ["river"], "by": BEA}),
        ),
    )
    assert view.require_good_standing("acme", BEA, 0).tags == ("river",)
    assert [r.did for r in view.in_good_standing("acme", 0)] == [BEA]


def test_live_notices_reach_only_the_members_they_are_for() -> None:
    bea = {"member": BEA, "roles": ["member"], "type": "supporter", "tags": ["river"], "moderator": False}
    mod = {
        "member": "did:key:mo",
        "roles": ["member", "moderator"],
        "type": "standard",
        "tags": [],
        "moderator": True,
    }
    assert may_see({"kind": "message", "members": [BEA, "did:key:cy"]}, bea)
    assert not may_see({"kind": "message", "members": ["did:key:cy"]}, mod)
    assert not may_see({"kind": "post", "read_roles": ["board"]}, bea)
    assert may_see({"kind": "post", "read_roles": ["board"]}, mod)
    assert may_see(
        {"kind": "announcement", "audience": {"roles": [], "types": ["supporter"], "tags": []}}, bea
    )
    assert not may_see(
        {"kind": "announcement", "audience": {"roles": [], "types": [], "tags": ["hill"]}}, bea
    )
    assert not may_see({"kind": "moderation", "moderators": True}, bea)
    assert may_see({"moderators": True}, mod)


def test_rendering_keeps_markdown_and_drops_markup_scripts_images_and_unsafe_links() -> None:
    html = render(
        "**bold** <script>x()</script> [a](javascript:x) [b](https://ok.example) ![t](https://t.example/p)"
    )
    assert "<strong>bold</strong>" in html
    assert "&lt;script&gt;" in html
    assert '<a href="https://ok.example" rel="nofollow noopener noreferrer ugc">b</a>' in html
    assert "<img" not in html
    assert 'href="javascript' not in html
