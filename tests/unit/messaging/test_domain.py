"""Pure rules of the messaging domain: given events, when a command, then events or a typed refusal."""

from __future__ import annotations

import pytest

from services.messaging.domain.announcement import Announcement, in_audience
from services.messaging.domain.appeal import Appeal
from services.messaging.domain.category import Category
from services.messaging.domain.content import check_body, check_reaction, check_title
from services.messaging.domain.conversation import Conversation
from services.messaging.domain.events import (
    AnnouncementPublicSet,
    AnnouncementSent,
    Audience,
    MemberBanned,
    PostEdited,
    ReadMarkerSet,
)
from services.messaging.domain.participant import Participant
from services.messaging.domain.post import Post
from shared.domain import DomainError

ADA, BEA, CY = "did:key:z6Mkada", "did:key:z6Mkbea", "did:key:z6Mkcy"


def test_an_audience_matches_any_value_of_every_list_it_names() -> None:
    everyone = Audience()
    board_supporters = Audience(roles=("board",), types=("supporter",))
    assert in_audience(everyone, (), "standard", ())
    assert in_audience(board_supporters, ("member", "board"), "supporter", ())
    assert not in_audience(board_supporters, ("member", "board"), "standard", ())
    assert not in_audience(Audience(tags=("river", "hill")), ("board",), "supporter", ("sea",))


def test_an_announcement_is_sent_once_and_not_after_it_was_cancelled() -> None:
    announcement = Announcement("acme.announcement.a1")
    announcement.draft(
        title="AGM", body="Thu", audience=Audience(), send_at_ns=0, by=ADA, statement=None, now=1
    )
    announcement.send(recipients=(BEA,), document={"proof": {}}, by=ADA, statement=None, now=2)
    [_, sent] = announcement.collect_events()
    assert isinstance(sent, AnnouncementSent)
    assert (sent.title, sent.recipients) == ("AGM", (BEA,))
    with pytest.raises(DomainError) as again:
        announcement.send(recipients=(), document={}, by=ADA, statement=None, now=3)
    assert again.value.code == "already_sent"
    with pytest.raises(DomainError) as cancel:
        announcement.cancel(by=ADA, statement=None, now=3)
    assert cancel.value.code == "already_sent"


def test_only_an_announcement_to_everyone_is_public_and_each_change_is_an_event() -> None:
    segment = Announcement("acme.announcement.a1")
    segment.draft(
        title="Board",
        body="x",
        audience=Audience(roles=("board",)),
        send_at_ns=0,
        by=ADA,
        statement=None,
        now=1,
    )
    with pytest.raises(DomainError) as refused:
        segment.set_public(public=True, by=ADA, statement=None, now=2)
    assert (refused.value.code, refused.value.status) == ("public_needs_everyone", 422)
    assert not segment.set_public(public=False, by=ADA, statement=None, now=2)  # already not public

    everyone = Announcement("acme.announcement.a2")
    everyone.draft(title="AGM", body="Thu", audience=Audience(), send_at_ns=0, by=ADA, statement=None, now=1)
    assert everyone.set_public(public=True, by=ADA, statement=None, now=2)
    assert not everyone.set_public(public=True, by=ADA, statement=None, now=3)  # no change, no event
    everyone.send(recipients=(BEA,), document={}, by=ADA, statement=None, now=4)
    assert everyone.set_public(public=False, by=ADA, statement=None, now=5)
    changes = [e for e in everyone.collect_events() if isinstance(e, AnnouncementPublicSet)]
    assert [(e.public, e.occurred_ns) for e in changes] == [(True, 2), (False, 5)]
    assert not everyone.public

    cancelled = Announcement("acme.announcement.a3")
    cancelled.draft(title="X", body="y", audience=Audience(), send_at_ns=9, by=ADA, statement=None, now=1)
    cancelled.cancel(by=ADA, statement=None, now=2)
    with pytest.raises(DomainError) as gone:
        cancelled.set_public(public=True, by=ADA, statement=None, now=3)
    assert gone.value.code == "announcement_cancelled"


def test_a_post_keeps_every_version_and_only_its_author_edits_it() -> None:
    post = Post("acme.post.p1")
    post.create(
        thread="t1",
        category="g",
        title="Hi",
        body="one",
        by=BEA,
        quote=None,
        mentions=(),
        statement=None,
        now=1,
    )
    post.edit(title="", body="two", by=BEA, statement=None, now=2)
    post.edit(title="", body="two", by=BEA, statement=None, now=3)  # no change, no event
    with pytest.raises(DomainError) as other:
        post.edit(title="", body="three", by=CY, statement=None, now=4)
    assert other.value.code == "not_your_post"
    edits = [e for e in post.collect_events() if isinstance(e, PostEdited)]
    assert [(e.title, e.body) for e in edits] == [("Hi", "two")]  # the thread keeps its title
    assert [v.body for v in post.versions] == ["one", "two"]

    post.moderate(action="hide", by=ADA, reason="rude", statement=None, now=5)
    with pytest.raises(DomainError) as hidden:
        post.edit(title="", body="sneaky", by=BEA, statement=None, now=6)
    assert (hidden.value.code, hidden.value.status) == ("unknown_post", 404)
    post.moderate(action="restore", by=ADA, reason="ok", statement=None, now=7)
    assert (post.state, post.moderated_by) == ("visible", "")


def test_bans_read_roles_and_direct_conversations() -> None:
    category = Category("acme.category.board")
    category.configure(
        name="Board",
        description="",
        read_roles=("board",),
        post_roles=(),
        by=ADA,
        statement=None,
        now=1,
        create=True,
    )
    assert category.may_read(("board",))
    assert not category.may_read(("member",))
    category.ban(member=BEA, reason="flood", by=ADA, statement=None, now=2)
    assert isinstance(category.collect_events()[-1], MemberBanned)
    with pytest.raises(DomainError) as banned:
        category.require_not_banned(BEA)
    assert (banned.value.code, banned.value.status) == ("banned", 403)

    direct = Conversation("acme.conversation.d1")
    with pytest.raises(DomainError) as three:
        direct.create(
            kind="direct", name="", members=(ADA, BEA, CY), read_roles=(), by=ADA, statement=None, now=1
        )
    assert three.value.code == "invalid_request"
    direct.create(kind="direct", name="", members=(ADA, BEA), read_roles=(), by=ADA, statement=None, now=1)
    assert direct.encrypted
    assert direct.may_read(BEA, ())
    assert not direct.may_read(CY, ("admin",))


def test_read_markers_only_move_forward_and_appeals_are_decided_once_by_someone_else() -> None:
    participant = Participant("acme.participant.x")
    assert participant.set_marker(BEA, "thread:t1", 3, None, 1)
    assert not participant.set_marker(BEA, "thread:t1", 2, None, 2)
    assert [e.position for e in participant.collect_events() if isinstance(e, ReadMarkerSet)] == [3]

    appeal = Appeal("acme.appeal.a1")
    appeal.file(target_kind="post", target="p1", by=BEA, reason="joke", statement=None, now=1)
    with pytest.raises(DomainError) as own:
        appeal.decide(decision="overturned", by=BEA, reason="mine", statement=None, now=2)
    assert own.value.code == "own_appeal"
    appeal.decide(decision="upheld", by=ADA, reason="no", statement=None, now=3)
    with pytest.raises(DomainError) as twice:
        appeal.decide(decision="overturned", by=CY, reason="yes", statement=None, now=4)
    assert twice.value.code == "appeal_decided"


@pytest.mark.parametrize(
    ("check", "value", "code"),
    [
        (check_title, "", "invalid_post"),
        (check_title, "two\nlines", "invalid_post"),
        (check_title, "x" * 201, "too_large"),
        (check_body, "   ", "invalid_post"),
        (check_body, "é" * 20_000, "too_large"),
        (check_body, "nul\x00", "invalid_post"),
        (check_reaction, "two words", "invalid_reaction"),
        (check_reaction, "<script>", "invalid_reaction"),
    ],
)
def test_malformed_content_is_refused_with_a_typed_error(check: object, value: str, code: str) -> None:
    assert callable(check)
    with pytest.raises(DomainError) as refused:
        check(value)
    assert refused.value.code == code
