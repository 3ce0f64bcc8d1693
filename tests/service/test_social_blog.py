"""First Person Pages at the service layer: signed posts, public reads, comments and replies."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from services.social.client.signing import signed_post
from services.social.domain.commands import CommentsQuery, PostQuery, PostsQuery
from shared.commands import CommandRejected
from shared.domain import DomainError
from shared.statements import verify_statement
from shared.trust.credentials import verify_credential
from shared.trust.resolver import default_resolver

from .test_social_support import ident, person, world


async def test_a_member_publishes_a_signed_post_that_anyone_reads_and_verifies() -> None:
    w = world()
    ada = w.member("Ada")
    post = await w.publish(ada, "Soil first", ["#Regenerative", "soil"])

    read = await w.handlers.get_post(PostQuery(w.community, post))
    assert (read["author"], read["headline"], read["hashtags"]) == (
        ada.did,
        "Soil first",
        ["regenerative", "soil"],
    )
    verified = verify_credential(read["document"], default_resolver(), now=datetime.now(tz=UTC))
    assert verified.issuer == ada.did
    listing = await w.handlers.list_posts(PostsQuery(w.community, hashtag="#regenerative"))
    assert [p["post"] for p in listing["posts"]] == [post]
    assert (await w.handlers.list_posts(PostsQuery(w.community, hashtag="other")))["posts"] == []


async def test_a_post_signed_by_someone_else_or_tampered_with_is_refused_and_nothing_is_recorded() -> None:
    w = world()
    ada, bea = w.member("Ada"), w.member("Bea")
    post = ident()
    beas = signed_post(bea, w.community, post, headline="Mine", body="x")
    with pytest.raises(DomainError) as borrowed:
        await w.handlers.publish_post(w.act(ada, "publish_post", {"post": post, "document": beas}))
    assert borrowed.value.code == "not_your_post"

    tampered = copy.deepcopy(signed_post(ada, w.community, post, headline="Honest", body="x"))
    tampered["credentialSubject"]["headline"] = "Forged"
    with pytest.raises(DomainError) as forged:
        await w.handlers.publish_post(w.act(ada, "publish_post", {"post": post, "document": tampered}))
    assert forged.value.code == "invalid_signature"

    elsewhere = signed_post(ada, "othercommunity", post, headline="Elsewhere", body="x")
    with pytest.raises(DomainError) as wrong:
        await w.handlers.publish_post(w.act(ada, "publish_post", {"post": post, "document": elsewhere}))
    assert wrong.value.code == "wrong_community"
    assert (await w.handlers.list_posts(PostsQuery(w.community)))["posts"] == []


async def test_only_members_in_good_standing_publish_and_comment() -> None:
    w = world()
    ada, outsider = w.member("Ada"), person()
    post = ident()
    document = signed_post(outsider, w.community, post, headline="Hi", body="x")
    with pytest.raises(DomainError) as refused:
        await w.handlers.publish_post(w.act(outsider, "publish_post", {"post": post, "document": document}))
    assert (refused.value.code, refused.value.status) == ("not_a_member", 403)

    mine = await w.publish(ada, "Hello")
    w.roster.suspend(w.community, ada.did)
    with pytest.raises(DomainError) as suspended:
        await w.handlers.comment(w.act(ada, "comment", {"post": mine, "text": "me again"}))
    assert suspended.value.code == "not_a_member"


async def test_members_comment_the_author_replies_and_comments_stay_with_members() -> None:
    w = world()
    ada, bea = w.member("Ada"), w.member("Bea")
    post = await w.publish(ada, "Cover crops")
    comment = await w.handlers.comment(w.act(bea, "comment", {"post": post, "text": "Which species?"}))
    reply = await w.handlers.comment(
        w.act(ada, "comment", {"post": post, "text": "Clover and rye.", "reply_to": comment["comment"]})
    )
    assert (reply["by_author"], reply["reply_to"]) == (True, comment["comment"])
    assert (
        verify_statement(
            reply["statement"], action="social.comment", community=w.community, now=datetime.now(tz=UTC)
        ).actor
        == ada.did
    )

    thread = await w.handlers.list_comments(CommentsQuery(w.community, post, bea.did))
    assert [(c["by"], c["text"]) for c in thread["comments"]] == [
        (bea.did, "Which species?"),
        (ada.did, "Clover and rye."),
    ]
    with pytest.raises(DomainError) as stranger:
        await w.handlers.list_comments(CommentsQuery(w.community, post, person().did))
    assert stranger.value.code == "not_a_member"
    with pytest.raises(DomainError) as dangling:
        await w.handlers.comment(w.act(bea, "comment", {"post": post, "text": "?", "reply_to": "nope"}))
    assert dangling.value.code == "unknown_comment"
    assert (await w.handlers.get_post(PostQuery(w.community, post)))["comments"] == 2


async def test_a_post_is_served_as_safe_html_beside_its_markdown_source() -> None:
    w = world()
    ada = w.member("Ada")
    post = ident()
    body = (
        "# Seeds\n\n<script>alert(1)</script> [site](javascript:alert(1)) ![pixel](https://t.example/p.gif)"
    )
    document = signed_post(ada, w.community, post, headline="Seeds", body=body)
    await w.handlers.publish_post(w.act(ada, "publish_post", {"post": post, "document": document}))
    read = await w.handlers.get_post(PostQuery(w.community, post))
    assert read["body"] == body
    assert "<h1>Seeds</h1>" in read["html"]
    assert "<script" not in read["html"]
    assert 'href="javascript' not in read["html"]
    assert "<img" not in read["html"]


async def test_the_author_revises_or_withdraws_and_a_withdrawn_post_is_gone_for_readers() -> None:
    w = world()
    ada, bea = w.member("Ada"), w.member("Bea")
    post = await w.publish(ada, "Draft")
    revised = signed_post(ada, w.community, post, headline="Final", body="Better.", hashtags=["soil"])
    with pytest.raises(DomainError) as not_hers:
        await w.handlers.revise_post(w.act(bea, "revise_post", {"post": post, "document": revised}))
    assert not_hers.value.code == "not_your_post"
    before = await w.handlers.get_post(PostQuery(w.community, post))
    assert (before["revised_at"], before["revisions"]) == (None, 0)
    await w.handlers.revise_post(w.act(ada, "revise_post", {"post": post, "document": revised}))
    after = await w.handlers.get_post(PostQuery(w.community, post))
    assert after["headline"] == "Final"
    assert after["revisions"] == 1
    assert after["revised_at"] >= after["at"]
    assert after["document"] == revised
    listed = (await w.handlers.list_posts(PostsQuery(w.community)))["posts"]
    assert [(p["headline"], p["revised_at"]) for p in listed] == [("Final", after["revised_at"])]
    # A revision that changes nothing is refused and stores nothing.
    same = signed_post(ada, w.community, post, headline="Final", body="Better.", hashtags=["#Soil"])
    with pytest.raises(DomainError) as unchanged:
        await w.handlers.revise_post(w.act(ada, "revise_post", {"post": post, "document": same}))
    assert unchanged.value.code == "unchanged"
    assert (await w.handlers.get_post(PostQuery(w.community, post)))["revisions"] == 1

    with pytest.raises(DomainError) as refused:
        await w.handlers.withdraw_post(w.act(bea, "withdraw_post", {"post": post}))
    assert refused.value.code == "not_the_author"
    await w.handlers.withdraw_post(w.act(ada, "withdraw_post", {"post": post, "reason": "outdated"}))
    with pytest.raises(DomainError) as gone:
        await w.handlers.get_post(PostQuery(w.community, post))
    assert (gone.value.code, gone.value.status) == ("post_withdrawn", 410)
    assert (await w.handlers.list_posts(PostsQuery(w.community)))["posts"] == []


async def test_a_replayed_statement_or_one_for_another_community_is_refused() -> None:
    w = world()
    ada = w.member("Ada")
    post = ident()
    document = signed_post(ada, w.community, post, headline="Once", body="x")
    command = w.act(ada, "publish_post", {"post": post, "document": document})
    await w.handlers.publish_post(command)
    with pytest.raises(CommandRejected) as replayed:
        await w.handlers.publish_post(command)
    assert (replayed.value.type, replayed.value.status) == ("statement_replayed", 401)
    moved = type(command)(community="elsewhere", statement=command.statement)
    with pytest.raises(CommandRejected) as wrong:
        await w.handlers.publish_post(moved)
    assert wrong.value.type == "wrong_community"


async def test_posts_of_one_community_are_invisible_in_another() -> None:
    w = world()
    ada = w.member("Ada")
    post = await w.publish(ada, "Local news")
    assert [p["post"] for p in (await w.handlers.list_posts(PostsQuery(w.community)))["posts"]] == [post]
    assert (await w.handlers.list_posts(PostsQuery("another")))["posts"] == []
    with pytest.raises(DomainError) as missing:
        await w.handlers.get_post(PostQuery("another", post))
    assert missing.value.code == "unknown_post"


async def test_a_community_named_like_infrastructure_is_a_typed_refusal() -> None:
    w = world()
    for name in ("cmd", "_x"):
        with pytest.raises(DomainError) as refused:
            await w.handlers.list_posts(PostsQuery(name))
        assert refused.value.code == "invalid_request"
