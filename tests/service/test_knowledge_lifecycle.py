"""Know keeps up with the community: edits re-index, hidden, removed and deleted content stops
being retrievable at once, and uploads are checked (rights, size, type, integrity) before anything
is recorded."""
# ruff: noqa: F811 (fixtures imported from test_knowledge_support)

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from services.knowledge.bootstrap import start_knowledge
from services.knowledge.config import KnowledgeSettings
from services.knowledge.domain.commands import LibraryQuery, Upload
from shared.domain import DomainError

from .test_knowledge_support import (
    Community,
    Producer,
    ask,
    indexed,
    keys_of,
    know,  # noqa: F401
    messaging,  # noqa: F401
    private_nc,  # noqa: F401
    signed,
    start_community,
    tiny_pdf,
    upload,
)


async def refused(coro: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await coro  # type: ignore[misc]
    return caught.value


async def test_hidden_removed_edited_and_restored_posts(know: Community, messaging: Producer) -> None:
    c, handlers = know.slug, know.service.handlers
    await messaging.emit(c, "category", "market", "messaging.category_created.v1",
                         category="market", name="Market", read_roles=[])  # fmt: skip
    post = {
        "post": "p1",
        "thread": "t1",
        "category": "market",
        "title": "Selling a canoe",
        "by": know.member.did,
    }
    await messaging.emit(c, "post", "p1", "messaging.post_created.v1",
                         body="Green canoe for sale, 200 euros, paddles included.", **post)  # fmt: skip
    seq = await messaging.emit(c, "post", "p2", "messaging.post_created.v1", post="p2", thread="t1",
                               category="market", title="", body="Is the canoe still available?",
                               by=know.admin.did)  # fmt: skip
    await indexed(know, "MESSAGING", seq)
    question = "How much does the canoe cost?"
    assert "post:p1" in keys_of(await handlers.ask(ask(c, know.member, question)))[:2]
    reply = [
        p
        for p in (await handlers.search(ask(c, know.member, question)))["passages"]
        if p["source"]["key"] == "post:p2"
    ]
    assert reply[0]["heading"] == "Selling a canoe"  # a reply carries its thread's title

    edited = "Green canoe for sale, now 150 euros, paddles included."
    seq = await messaging.emit(c, "post", "p1", "messaging.post_edited.v1", body=edited, **post)
    await indexed(know, "MESSAGING", seq)
    quotes = [p["quote"] for p in (await handlers.ask(ask(c, know.member, question)))["passages"]]
    assert any("150 euros" in q for q in quotes)
    assert not any("200 euros" in q for q in quotes)

    for withdrawn, back in (("messaging.post_hidden.v1", True), ("messaging.post_removed.v1", True)):
        seq = await messaging.emit(c, "post", "p1", withdrawn, post="p1", thread="t1", category="market",
                                   by=know.admin.did, reason="spam")  # fmt: skip
        await indexed(know, "MESSAGING", seq)
        for method in ("bm25", "dense", "hybrid"):
            assert "post:p1" not in keys_of(
                await handlers.search(ask(c, know.admin, question, method=method))
            )
        if back:
            seq = await messaging.emit(c, "post", "p1", "messaging.post_restored.v1", post="p1", thread="t1",
                                       category="market", by=know.admin.did)  # fmt: skip
            await indexed(know, "MESSAGING", seq)
            assert "post:p1" in keys_of(await handlers.ask(ask(c, know.member, question)))


async def test_documents_are_revised_and_deleted_by_their_author_or_an_admin(know: Community) -> None:
    c, handlers = know.slug, know.service.handlers
    await handlers.configure_library(
        signed(know.admin, "configure_library", c, {"uploader_roles": ["member"]})
    )
    v1 = b"Quiet hours in the shared house are from 22:00 to 07:00."
    added = await handlers.add_document(upload(know.member, c, "House rules", v1, document="house-rules"))
    assert (added["document"], added["searchable"]) == ("house-rules", True)
    again = await refused(
        handlers.add_document(upload(know.member, c, "House rules", v1, document="house-rules"))
    )
    assert again.code == "document_exists"

    v2 = b"Quiet hours in the shared house are from 23:00 to 08:00 since the spring assembly."
    await handlers.revise_document(upload(know.member, c, "House rules", v2, document="house-rules",
                                          action="revise_document"))  # fmt: skip
    answer = await handlers.ask(ask(c, know.member, "When are quiet hours?"))
    assert "23:00" in answer["passages"][0]["quote"]
    assert all("22:00" not in p["text"] for p in answer["passages"])
    unchanged = upload(know.member, c, "House rules", v2, document="house-rules", action="revise_document")
    same = await refused(handlers.revise_document(unchanged))
    assert same.code == "unchanged"

    other = know.join()
    not_yours = await refused(
        handlers.delete_document(signed(other, "delete_document", c, {"document": "house-rules"}))
    )
    assert (not_yours.code, not_yours.status) == ("not_the_author", 403)
    deleted = await handlers.delete_document(
        signed(know.admin, "delete_document", c, {"document": "house-rules"})
    )
    assert deleted["deleted"] is True
    for method in ("bm25", "dense", "hybrid"):
        assert keys_of(await handlers.search(ask(c, know.member, "quiet hours", method=method))) == []
    gone = await refused(
        handlers.delete_document(signed(know.admin, "delete_document", c, {"document": "house-rules"}))
    )
    assert (gone.code, gone.status) == ("unknown_document", 404)


async def test_uploads_need_the_right_and_survive_bad_files_with_a_reason(know: Community) -> None:
    c, handlers = know.slug, know.service.handlers
    text = b"The boathouse key is with the harbour master."
    no_right = await refused(handlers.add_document(upload(know.member, c, "Keys", text)))
    assert (no_right.code, no_right.status) == ("may_not_upload", 403)
    assert no_right.message == "only admins may add documents"
    mine = await handlers.library(LibraryQuery(community=c, member=know.member.did))
    assert mine["may_upload"] is False  # the web app offers no upload form she could not use
    assert (await handlers.library(LibraryQuery(community=c, member=know.admin.did)))["may_upload"] is True
    not_admin = await refused(handlers.configure_library(signed(know.member, "configure_library", c,
                                                                {"uploader_roles": ["member"]})))  # fmt: skip
    assert not_admin.code == "not_an_admin"
    librarian = know.join(roles=("member", "librarian"))
    await handlers.configure_library(
        signed(know.admin, "configure_library", c, {"uploader_roles": ["librarian"]})
    )
    as_librarian = await handlers.library(LibraryQuery(community=c, member=librarian.did))
    assert (as_librarian["may_upload"], as_librarian["uploader_roles"]) == (True, ["librarian"])
    assert (await refused(handlers.add_document(upload(know.member, c, "Keys", text)))).message == (
        "only admins and members with the role librarian may add documents"
    )

    cases = {
        "too_large": upload(librarian, c, "Big", b"x" * 200_000),
        "corrupt_upload": upload(librarian, c, "Broken", b"%PDF-1.7\n1 0 obj << /Type /Catalog"),
        "unsupported_media": upload(librarian, c, "Image", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10),
        "empty_document": upload(librarian, c, "Blank", b"   \n\n  "),
        "invalid_request": upload(librarian, c, "", b"no title, no filename"),
    }
    for code, command in cases.items():
        assert (await refused(handlers.add_document(command))).code == code
    swapped = upload(librarian, c, "Keys", text)
    tampered = Upload(swapped.community, swapped.statement, base64.b64encode(b"other bytes").decode())
    assert (await refused(handlers.add_document(tampered))).code == "content_mismatch"
    forged = upload(librarian, c, "Keys", text)
    forged.statement["body"]["title"] = "Changed after signing"
    assert (await refused(handlers.add_document(forged))).code == "forged_statement"

    timetable = tiny_pdf("The ferry leaves at 7:15.", "Tickets cost 4 euros.")
    accepted = upload(librarian, c, "Ferry timetable", timetable, filename="ferry.pdf")
    await handlers.add_document(accepted)
    replayed = await refused(handlers.add_document(accepted))
    assert replayed.code in ("statement_replayed", "document_exists")
    answer = await handlers.ask(ask(c, know.member, "When does the ferry leave?"))
    assert "7:15" in answer["passages"][0]["quote"]
    library = await handlers.library(LibraryQuery(community=c, member=know.member.did))
    assert [(d["title"], d["kind"]) for d in library["documents"]] == [("Ferry timetable", "document")]
    # Nothing refused reached the log: one document commit, one library commit.
    store = know.service.stores["KNOWLEDGE"]
    commits = await store.read_commits(1, subject=f"knowledge.{c}.>")
    assert [cm.commit.event_types for cm in commits] == [
        ["knowledge.library_configured.v1"],
        ["knowledge.document_added.v1"],
    ]


async def test_a_restarted_service_rebuilds_its_index_from_the_signed_log(
    nc: NATS, nats_url: str, tmp_path: Path
) -> None:
    first = await start_community(nc, nats_url)
    settings = KnowledgeSettings(communities=(first.slug,))
    text = b"The sauna in building C is free for members on Sunday evenings."
    await first.service.handlers.add_document(upload(first.admin, first.slug, "Sauna", text))
    await first.service.stop()

    again = await start_knowledge(nc, nats_url, tmp_path, settings, roster=first.roster)
    try:
        seq = (await again.stores["KNOWLEDGE"].read_commits(1, subject=f"knowledge.{first.slug}.>"))[-1].seq
        assert await again.indexer.wait_for("KNOWLEDGE", seq, 60.0)
        answer = await again.handlers.ask(ask(first.slug, first.member, "When is the sauna free?"))
        assert answer["passages"][0]["source"]["title"] == "Sauna"
        assert (tmp_path / "vectors.sqlite").exists()  # vectors are cached for the next restart
    finally:
        await again.stop()


async def test_a_forged_commit_on_a_stream_is_never_indexed(
    know: Community, messaging: Producer, private_nc: NATS
) -> None:
    c = know.slug
    await messaging.emit(c, "category", "general", "messaging.category_created.v1",
                         category="general", name="General", read_roles=[])  # fmt: skip
    fields = {
        "post": "p9",
        "thread": "t9",
        "category": "general",
        "title": "Free bikes",
        "by": know.member.did,
    }
    honest = await messaging.emit(
        c, "post", "p9", "messaging.post_created.v1", body="Two bikes to give.", **fields
    )
    stored = (await messaging.store.read_commits(honest, subject=f"messaging.{c}.post.p9"))[0]
    envelope = bytearray(stored.data)
    at = envelope.find(b"Two bikes")
    envelope[at : at + 3] = b"Ten"  # the bytes no longer match their signature
    await private_nc.jetstream().publish(f"messaging.{c}.post.p8", bytes(envelope))  # this test's own server
    seq = await messaging.emit(c, "post", "p7", "messaging.post_created.v1", body="A pram to give away.",
                               **(fields | {"post": "p7"}))  # fmt: skip
    await indexed(know, "MESSAGING", seq)
    assert know.service.indexer.skipped["unverifiable"] == 1
    found = keys_of(await know.service.handlers.search(ask(c, know.member, "give away bikes pram", limit=10)))
    assert sorted(found) == ["post:p7", "post:p9"]


async def test_the_library_says_who_may_change_each_document(know: Community) -> None:
    c, handlers = know.slug, know.service.handlers
    librarian = know.join(roles=("member", "librarian"))
    await handlers.configure_library(
        signed(know.admin, "configure_library", c, {"uploader_roles": ["librarian"]})
    )
    text = b"The boathouse key is with the harbour master."
    await handlers.add_document(upload(librarian, c, "Keys", text))
    # Its author and admins may revise or delete it; the app offers the others nothing.
    for viewer, may in ((librarian, True), (know.admin, True), (know.member, False)):
        listed = await handlers.library(LibraryQuery(community=c, member=viewer.did))
        assert listed["uploader_roles"] == ["librarian"]
        assert [d["may_change"] for d in listed["documents"] if d["title"] == "Keys"] == [may]
    [keys] = [d["document"] for d in listed["documents"] if d["title"] == "Keys"]
    await handlers.delete_document(signed(librarian, "delete_document", c, {"document": keys}))
    after = await handlers.library(LibraryQuery(community=c, member=librarian.did))
    assert [d["title"] for d in after["documents"]] == []
