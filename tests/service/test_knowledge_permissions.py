"""Know follows the community's own access rules inside retrieval: what a member may not read is
never a candidate, for BM25, dense and hybrid alike, and communities never see each other."""
# ruff: noqa: F811 (fixtures imported from test_knowledge_support)

from __future__ import annotations

import pytest
from nats.aio.client import Client as NATS

from services.knowledge.domain.access import Viewer
from services.knowledge.domain.commands import LibraryQuery
from shared.natsserver import NatsServer

from .test_knowledge_support import (  # noqa: F401 - fixtures
    Community,
    Producer,
    ask,
    indexed,
    keys_of,
    know,
    messaging,
    private_nc,
    start_community,
    upload,
)

METHODS = ("bm25", "dense", "hybrid")
BOARD_MINUTES = b"""# Board minutes, closed session

The board agreed a settlement of 12,500 euros with the former caretaker. Confidential until the AGM.
"""
PUBLIC_NOTE = b"""# Caretaker news

Our new caretaker starts in June and will look after the boathouse and the orchard.
"""


async def test_a_board_only_document_is_never_a_candidate_for_other_members(know: Community) -> None:
    handlers = know.service.handlers
    await handlers.add_document(
        upload(know.admin, know.slug, "Board minutes", BOARD_MINUTES, read_roles=["board"])
    )
    await handlers.add_document(upload(know.admin, know.slug, "Caretaker news", PUBLIC_NOTE))
    treasurer = know.join(roles=("member", "board"))
    question = "What settlement did the board agree with the former caretaker?"
    for method in METHODS:
        member = await handlers.search(ask(know.slug, know.member, question, method=method, limit=20))
        titles = [p["source"]["title"] for p in member["passages"]]
        assert titles, method
        assert "Board minutes" not in titles, method
        board = await handlers.search(ask(know.slug, treasurer, question, method=method))
        assert board["passages"][0]["source"]["title"] == "Board minutes", method
    member_docs = await handlers.library(LibraryQuery(community=know.slug, member=know.member.did))
    assert [d["title"] for d in member_docs["documents"]] == ["Caretaker news"]
    board_docs = await handlers.library(LibraryQuery(community=know.slug, member=treasurer.did))
    assert [d["title"] for d in board_docs["documents"]] == ["Board minutes", "Caretaker news"]


async def test_categories_and_audiences_govern_posts_and_announcements(
    know: Community, messaging: Producer
) -> None:
    c = know.slug
    await messaging.emit(c, "category", "stewards", "messaging.category_created.v1",
                         category="stewards", name="Stewards", read_roles=["steward"])  # fmt: skip
    await messaging.emit(
        c, "post", "p1", "messaging.post_created.v1", post="p1", thread="t1", category="stewards",
        title="Key safe code", body="The key safe code for the tool shed is 4711.", by=know.admin.did,
    )  # fmt: skip
    seq = await messaging.emit(
        c, "announcement", "a1", "messaging.announcement_sent.v1", announcement="a1", title="Youth trip",
        body="The youth trip to the tool museum leaves at 8:00 from the tool shed.",
        audience={"roles": [], "types": ["youth"], "tags": []}, by=know.admin.did,
    )  # fmt: skip
    await indexed(know, "MESSAGING", seq)
    steward = know.join(roles=("member", "steward"))
    youth = know.join(membership_type="youth")
    handlers = know.service.handlers
    question = "What is the code of the tool shed key safe?"
    for method in METHODS:
        assert "post:p1" not in keys_of(await handlers.search(ask(c, know.member, question, method=method)))
        assert "announcement:a1" not in keys_of(
            await handlers.search(ask(c, know.member, question, method=method))
        )
        assert keys_of(await handlers.search(ask(c, steward, question, method=method)))[0] == "post:p1"
        assert "announcement:a1" in keys_of(await handlers.search(ask(c, youth, question, method=method)))
    # As in messaging, a category's read roles bind admins too; an announcement's audience does not.
    admin_view = keys_of(await handlers.search(ask(c, know.admin, question)))
    assert "post:p1" not in admin_view
    assert "announcement:a1" in admin_view

    # Opening the category to every member takes effect on the next question, without re-indexing.
    seq = await messaging.emit(c, "category", "stewards", "messaging.category_configured.v1",
                               category="stewards", name="Stewards", read_roles=[])  # fmt: skip
    await indexed(know, "MESSAGING", seq)
    assert keys_of(await handlers.search(ask(c, know.member, question)))[0] == "post:p1"


async def test_a_suspension_or_a_lost_role_applies_to_the_very_next_question(know: Community) -> None:
    handlers = know.service.handlers
    await handlers.add_document(
        upload(know.admin, know.slug, "Board minutes", BOARD_MINUTES, read_roles=["board"])
    )
    treasurer = know.join(roles=("member", "board"))
    question = "settlement with the former caretaker"
    assert keys_of(await handlers.search(ask(know.slug, treasurer, question)))
    know.set(treasurer, roles=("member",))
    assert keys_of(await handlers.search(ask(know.slug, treasurer, question))) == []
    know.set(treasurer, roles=("member", "board"), standing="suspended")
    with pytest.raises(Exception, match=r"only members"):
        await handlers.search(ask(know.slug, treasurer, question))


async def test_communities_never_see_each_other(
    know: Community, private_nc: NATS, own_nats_server: NatsServer
) -> None:
    other = await start_community(private_nc, own_nats_server.url)
    try:
        await other.service.handlers.add_document(
            upload(other.admin, other.slug, "Caretaker news", PUBLIC_NOTE)
        )
        await know.service.handlers.add_document(
            upload(know.admin, know.slug, "Board minutes", BOARD_MINUTES)
        )
        # The same person is a member of both communities.
        other.roster.put(other.slug, Viewer(know.member.did, "active", frozenset({"member", "admin"})))
        for method in METHODS:
            there = await other.service.handlers.search(
                ask(other.slug, know.member, "caretaker", method=method)
            )
            assert {p["source"]["title"] for p in there["passages"]} == {"Caretaker news"}
            here = await know.service.handlers.search(ask(know.slug, know.member, "caretaker", method=method))
            assert {p["source"]["title"] for p in here["passages"]} == {"Board minutes"}
        assert other.slug not in know.service.indexer.indexes
    finally:
        await other.service.stop()
