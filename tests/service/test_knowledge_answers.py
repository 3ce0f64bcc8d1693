"""Know at the service layer: cited answers over documents and the community's own content."""
# ruff: noqa: F811 (fixtures imported from test_knowledge_support)

from __future__ import annotations

import pytest

from shared.domain import DomainError
from shared.envelope import open_envelope

from .test_knowledge_support import (  # noqa: F401 - fixtures
    Community,
    Producer,
    ask,
    governance,
    indexed,
    keys_of,
    know,
    messaging,
    private_nc,
    upload,
)

HANDBOOK = b"""# Member handbook

## Workshop

The bike workshop opens every Saturday from 10:00 to 14:00 in the old boathouse.
Bring your own inner tubes; tools are shared.

## Dues

Annual dues are 40 euros, payable before the end of March by bank transfer.
Members on a reduced income pay 15 euros.
"""


async def test_a_member_gets_quoted_passages_that_cite_the_signed_commit(know: Community) -> None:
    added = await know.service.handlers.add_document(
        upload(know.admin, know.slug, "Member handbook", HANDBOOK, filename="handbook.md")
    )
    assert added["searchable"] is True

    answer = await know.service.handlers.ask(ask(know.slug, know.member, "How much are the annual dues?"))
    assert answer["mode"] == "extractive"
    first = answer["passages"][0]
    assert "40 euros" in first["quote"]
    assert answer["answer"].startswith("> ")
    assert "[1]" in answer["answer"]
    source = first["source"]
    assert (source["kind"], source["title"], source["author"]) == (
        "document",
        "Member handbook",
        know.admin.did,
    )
    citation = source["citation"]
    assert (citation["stream"], citation["seq"]) == ("KNOWLEDGE", added["seq"])

    # The citation leads to a commit anyone can verify, holding the member's signed statement.
    store = know.service.stores["KNOWLEDGE"]
    (stored,) = await store.read_aggregate(citation["subject"])
    body = open_envelope(stored.data)
    assert (body.commit_id, body.signer) == (citation["commit_id"], citation["signer"])
    event = know.service.handlers.codec.decode(body.events[0].topic, body.events[0].state)
    assert event.statement["actor"] == know.admin.did  # type: ignore[attr-defined]
    assert event.statement["body"]["sha256"] == event.sha256  # type: ignore[attr-defined]


async def test_announcements_posts_and_outcomes_are_answerable_with_their_sources(
    know: Community, messaging: Producer, governance: Producer
) -> None:
    c = know.slug
    await messaging.emit(c, "category", "general", "messaging.category_created.v1",
                         category="general", name="General", read_roles=[])  # fmt: skip
    await messaging.emit(
        c, "announcement", "a1", "messaging.announcement_sent.v1", announcement="a1",
        title="Harvest festival", body="The harvest festival is on **14 September** at the orchard.",
        audience={"roles": [], "types": [], "tags": []}, by=know.admin.did,
    )  # fmt: skip
    seq = await messaging.emit(
        c, "post", "p1", "messaging.post_created.v1", post="p1", thread="t1", category="general",
        title="Compost rota", body="Composting duty rotates weekly; this week it is the Garcia family.",
        by=know.member.did,
    )  # fmt: skip
    await indexed(know, "MESSAGING", seq)
    await governance.emit(
        c, "poll", "q1", "governance.poll_opened.v1", poll="q1", title="New greenhouse",
        description="Should we build a greenhouse?", kind="yes_no",
    )  # fmt: skip
    seq = await governance.emit(
        c, "poll", "q1", "governance.outcome_recorded.v1", poll="q1", title="New greenhouse",
        outcome="The greenhouse was approved with a budget of 3,000 euros.", result={"yes": 31, "no": 4},
        by=know.admin.did,
    )  # fmt: skip
    await indexed(know, "GOVERNANCE", seq)

    handlers = know.service.handlers
    festival = await handlers.ask(ask(c, know.member, "When is the harvest festival?"))
    assert keys_of(festival)[0] == "announcement:a1"
    compost = await handlers.ask(ask(c, know.member, "Whose turn is composting?"))
    assert keys_of(compost)[0] == "post:p1"
    assert compost["passages"][0]["source"]["author"] == know.member.did
    greenhouse = await handlers.ask(ask(c, know.member, "What was decided about the greenhouse budget?"))
    assert keys_of(greenhouse)[0] == "outcome:q1"
    assert greenhouse["passages"][0]["source"]["citation"]["stream"] == "GOVERNANCE"


async def test_questions_from_outside_the_community_or_out_of_standing_are_refused(know: Community) -> None:
    handlers = know.service.handlers
    stranger = know.join(roles=())
    know.roster.members.pop((know.slug, stranger.did))
    suspended = know.join(standing="suspended")
    for who in (stranger, suspended):
        with pytest.raises(DomainError) as refused:
            await handlers.ask(ask(know.slug, who, "dues?"))
        assert (refused.value.code, refused.value.status) == ("not_a_member", 403)
    with pytest.raises(DomainError) as empty:
        await handlers.ask(ask(know.slug, know.member, "   "))
    assert empty.value.code == "invalid_request"
    with pytest.raises(DomainError) as long:
        await handlers.ask(ask(know.slug, know.member, "why " * 600))
    assert long.value.code == "question_too_long"
    with pytest.raises(DomainError) as no_model:
        await handlers.ask(ask(know.slug, know.member, "dues?", mode="generated"))
    assert (no_model.value.code, no_model.value.status) == ("generation_not_configured", 503)


async def test_an_unanswerable_question_says_so_instead_of_quoting_nothing(know: Community) -> None:
    answer = await know.service.handlers.ask(ask(know.slug, know.member, "When does the ferry leave?"))
    assert (answer["passages"], answer["citations"]) == ([], [])
    assert "Nothing you may read" in answer["answer"]
