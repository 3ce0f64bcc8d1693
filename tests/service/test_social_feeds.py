"""Feeds at the service layer: per-follow hashtags, content mix, trust profile, shareable definitions."""

from __future__ import annotations

from typing import Any

import pytest

from services.social.client.signing import signed_relationship
from services.social.domain.commands import DefinitionQuery, FeedQuery, MemberQuery
from shared.domain import DomainError
from shared.trust.member_keys import MemberKeys

from .test_social_support import World, person, world


async def titles(w: World, member: MemberKeys) -> list[str]:
    return [item["title"] for item in (await w.handlers.feed(FeedQuery(w.community, member.did)))["items"]]


async def relate(w: World, a: MemberKeys, b: MemberKeys) -> None:
    for one, other in ((a, b), (b, a)):
        body = {"credential": signed_relationship(one, other.did)}
        await w.handlers.record_relationship(w.act(one, "record_relationship", body))


def mix(**flags: bool) -> dict[str, Any]:
    return {"posts": True, "announcements": True, "discussions": True} | flags


async def test_following_an_author_only_for_a_hashtag_filters_her_posts() -> None:
    w = world()
    ada, jonny, kim = w.member("Ada"), w.member("Jonny"), w.member("Kim")
    await w.publish(jonny, "Regen farming", ["regenerative"])
    await w.publish(jonny, "My holiday", ["travel"])
    await w.publish(kim, "Kim's news")
    assert await titles(w, ada) == []

    await w.handlers.follow(w.act(ada, "follow", {"author": jonny.did, "hashtags": ["#Regenerative"]}))
    await w.handlers.follow(w.act(ada, "follow", {"author": kim.did}))
    assert await titles(w, ada) == ["Kim's news", "Regen farming"]
    await w.publish(jonny, "More regen", ["regenerative", "soil"])
    assert await titles(w, ada) == ["More regen", "Kim's news", "Regen farming"]

    await w.handlers.unfollow(w.act(ada, "unfollow", {"author": kim.did}))
    assert await titles(w, ada) == ["More regen", "Regen farming"]
    with pytest.raises(DomainError) as again:
        await w.handlers.unfollow(w.act(ada, "unfollow", {"author": kim.did}))
    assert again.value.code == "not_following"
    with pytest.raises(DomainError) as bad:
        await w.handlers.follow(w.act(ada, "follow", {"author": kim.did, "hashtags": ["no spaces"]}))
    assert bad.value.code == "invalid_hashtag"


async def test_the_trust_profile_keeps_only_authors_within_n_hops() -> None:
    w = world()
    ada, bea, cal, dan = (w.member(n) for n in ("Ada", "Bea", "Cal", "Dan"))
    for author in (bea, cal, dan):
        await w.publish(author, f"by {author.did[-4:]}")
        await w.handlers.follow(w.act(ada, "follow", {"author": author.did}))
    await relate(w, ada, bea)
    await relate(w, bea, cal)
    await relate(w, cal, dan)
    # one direction only is not an edge yet
    await w.handlers.record_relationship(
        w.act(ada, "record_relationship", {"credential": signed_relationship(ada, dan.did)})
    )
    definition = {"name": "Close circle", "mix": mix(), "trust": {"max_hops": 2}}
    await w.handlers.configure_feed(w.act(ada, "configure_feed", {"definition": definition}))
    assert sorted(await titles(w, ada)) == sorted([f"by {bea.did[-4:]}", f"by {cal.did[-4:]}"])

    network = await w.handlers.network_of(MemberQuery(w.community, ada.did))
    assert network["hops"] == {"1": [bea.did], "2": [cal.did], "3": [dan.did]}
    statuses = {(c["did"], c["status"]) for c in network["contacts"]}
    assert statuses == {(bea.did, "connected"), (dan.did, "pending")}


async def test_the_content_mix_and_messaging_events_from_the_shared_contract() -> None:
    w = world()
    ada, bea = w.member("Ada", ("member",)), w.member("Bea", ("member", "board"))
    await w.handlers.follow(w.act(ada, "follow", {"author": bea.did}))
    await w.publish(bea, "Bea's post")
    content = w.handlers.content
    event: dict[str, Any] = {"type": "messaging.announcement_sent.v1", "announcement": "a1", "title": "AGM"}
    content.apply_event(w.community, event | {"body": "Come", "audience": {}, "by": bea.did}, at=1)
    board_only = {"roles": ["board"], "types": [], "tags": []}
    content.apply_event(
        w.community, event | {"announcement": "a2", "title": "Board only", "audience": board_only}, at=2
    )
    content.apply_event(
        w.community,
        {"type": "messaging.category_created.v1", "category": "k1", "read_roles": ["board"]},
        at=3,
    )
    content.apply_event(
        w.community, {"type": "messaging.category_created.v1", "category": "k2", "read_roles": []}, 3
    )
    created = {"type": "messaging.post_created.v1", "thread": "t", "body": "..", "by": bea.did}
    content.apply_event(w.community, created | {"post": "p1", "category": "k1", "title": "Secret"}, at=4)
    content.apply_event(w.community, created | {"post": "p2", "category": "k2", "title": "Open talk"}, at=5)
    content.apply_event(w.community, created | {"post": "p3", "category": "k2", "title": ""}, at=6)
    content.apply_event("elsewhere", event | {"announcement": "x", "title": "Other community"}, at=7)
    named = event | {"announcement": "a3", "title": "To Bea", "audience": {}, "recipients": [bea.did]}
    content.apply_event(w.community, named, at=7)  # messaging recorded who was in the audience

    assert set(await titles(w, ada)) == {"Bea's post", "AGM", "Open talk"}
    assert set(await titles(w, bea)) == {"AGM", "Board only", "Secret", "Open talk", "To Bea"}

    definition = {"mix": mix(announcements=False, discussions=False)}
    await w.handlers.configure_feed(w.act(ada, "configure_feed", {"definition": definition}))
    assert await titles(w, ada) == ["Bea's post"]
    await w.handlers.configure_feed(w.act(ada, "configure_feed", {"definition": {"mix": mix(posts=False)}}))
    content.apply_event(w.community, {"type": "messaging.post_hidden.v1", "post": "p2"}, at=8)
    assert await titles(w, ada) == ["AGM"]
    content.apply_event(w.community, {"type": "messaging.post_restored.v1", "post": "p2"}, at=9)
    assert await titles(w, ada) == ["Open talk", "AGM"]


async def test_a_feed_definition_is_exported_and_imported_by_another_member() -> None:
    w = world()
    ada, bea, jonny = w.member("Ada"), w.member("Bea"), w.member("Jonny")
    await w.publish(jonny, "Regen", ["regenerative"])
    await w.handlers.follow(w.act(ada, "follow", {"author": jonny.did, "hashtags": ["regenerative"]}))
    await w.handlers.configure_feed(
        w.act(ada, "configure_feed", {"definition": {"name": "Regen watch", "mix": mix(announcements=False)}})
    )
    exported = await w.handlers.export_feed(MemberQuery(w.community, ada.did))
    assert exported["shared"] is False
    shared = exported["definition"]
    assert shared["follows"] == [{"author": jonny.did, "hashtags": ["regenerative"]}]
    assert (shared["name"], shared["mix"]["announcements"]) == ("Regen watch", False)

    await w.handlers.configure_feed(
        w.act(bea, "configure_feed", {"definition": shared, "replace_follows": True})
    )
    assert await titles(w, bea) == ["Regen"]
    assert (await w.handlers.export_feed(MemberQuery(w.community, bea.did)))["definition"] == shared

    broken = shared | {"trust": {"max_hops": 99}}
    with pytest.raises(DomainError) as refused:
        await w.handlers.configure_feed(w.act(bea, "configure_feed", {"definition": broken}))
    assert refused.value.code == "invalid_feed"
    with pytest.raises(DomainError) as unknown_field:
        await w.handlers.configure_feed(w.act(bea, "configure_feed", {"definition": shared | {"x": 1}}))
    assert unknown_field.value.code == "invalid_request"
    with pytest.raises(DomainError) as outsider:
        await w.handlers.feed(FeedQuery(w.community, person().did))
    assert outsider.value.code == "not_a_member"


async def test_a_member_shares_her_feed_definition_and_others_read_it_only_then() -> None:
    w = world()
    ada, bea, jonny = w.member("Ada"), w.member("Bea"), w.member("Jonny")
    await w.handlers.follow(w.act(ada, "follow", {"author": jonny.did, "hashtags": ["regenerative"]}))
    with pytest.raises(DomainError) as private:
        await w.handlers.shared_definition(DefinitionQuery(w.community, bea.did, ada.did))
    assert (private.value.code, private.value.status) == ("feed_not_shared", 404)
    configured = await w.handlers.configure_feed(
        w.act(ada, "configure_feed", {"definition": {"name": "Regen watch"}, "share": True})
    )
    assert configured["shared"] is True
    seen = await w.handlers.shared_definition(DefinitionQuery(w.community, bea.did, ada.did))
    assert (seen["owner"], seen["definition"]["follows"]) == (
        ada.did,
        [{"author": jonny.did, "hashtags": ["regenerative"]}],
    )
    await w.handlers.configure_feed(w.act(bea, "configure_feed", {"definition": seen["definition"]}))
    assert (await w.handlers.export_feed(MemberQuery(w.community, bea.did)))["shared"] is False
    with pytest.raises(DomainError) as outsider:
        await w.handlers.shared_definition(DefinitionQuery(w.community, person().did, ada.did))
    assert outsider.value.code == "not_a_member"
