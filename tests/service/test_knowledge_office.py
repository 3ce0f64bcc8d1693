"""Word and OpenDocument uploads through the knowledge service: a .docx or .odt written by
python-docx or odfpy is indexed under its own headings and answers a member's question with a
citation of the signed upload; a damaged, encrypted or oversized one is refused and records nothing."""
# ruff: noqa: F811 (fixtures imported from test_knowledge_support)

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import docx
import pytest
from odf.opendocument import OpenDocumentText
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import H, P

from services.knowledge.adapters.office import DOCX, ODT
from services.knowledge.domain.commands import LibraryQuery
from shared.domain import DomainError
from shared.envelope import open_envelope

from .test_knowledge_support import (  # noqa: F401 - fixtures
    Community,
    ask,
    know,
    private_nc,
    upload,
)


def handbook(tmp_path: Path) -> bytes:
    document = docx.Document()
    document.add_heading("Member handbook", 0)
    document.add_heading("Workshop", 1)
    document.add_paragraph("The bike workshop opens every Saturday from 10:00 to 14:00 in the old boathouse.")
    document.add_paragraph("Bring your own inner tubes", style="List Bullet")
    document.add_paragraph("Tools are shared", style="List Bullet")
    document.add_heading("Dues", 1)
    document.add_paragraph("Annual dues are 40 euros, payable before the end of March by bank transfer.")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate((("Membership", "Dues"), ("Reduced income", "15 euros"))):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    path = tmp_path / "handbook.docx"
    document.save(str(path))
    return path.read_bytes()


def minutes(tmp_path: Path) -> bytes:
    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="March assembly"))
    document.text.addElement(H(outlinelevel=2, text="Greenhouse"))
    document.text.addElement(P(text="The assembly approved a greenhouse behind the shop, built in April."))
    table = Table(name="Votes")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for cells in (("Motion", "For"), ("Greenhouse", "31")):
        row = TableRow()
        for text in cells:
            cell = TableCell()
            cell.addElement(P(text=text))
            row.addElement(cell)
        table.addElement(row)
    document.text.addElement(table)
    path = tmp_path / "minutes.odt"
    document.save(str(path))
    return path.read_bytes()


async def test_a_word_upload_answers_with_a_citation_of_the_signed_upload(
    know: Community, tmp_path: Path
) -> None:
    c, handlers = know.slug, know.service.handlers
    data = handbook(tmp_path)
    added = await handlers.add_document(
        upload(know.admin, c, "Member handbook", data, filename="handbook.docx", media_type=DOCX)
    )
    assert added["searchable"] is True

    answer = await handlers.ask(ask(c, know.member, "How much are the annual dues?"))
    first = answer["passages"][0]
    assert "40 euros" in first["quote"]
    assert first["heading"] == "Member handbook / Dues"  # the Word heading names the passage
    source = first["source"]
    assert (source["key"], source["kind"], source["title"], source["author"]) == (
        f"document:{added['document']}", "document", "Member handbook", know.admin.did,
    )  # fmt: skip
    citation = source["citation"]
    assert (citation["stream"], citation["seq"], citation["event"]) == (
        "KNOWLEDGE", added["seq"], "knowledge.document_added.v1",
    )  # fmt: skip
    assert citation["subject"] == f"knowledge.{c}.document.{added['document']}"

    # The cited commit is the upload: the extracted text, the sniffed type and the signed sha256.
    (stored,) = await know.service.stores["KNOWLEDGE"].read_aggregate(citation["subject"])
    body = open_envelope(stored.data)
    assert (body.commit_id, body.signer) == (citation["commit_id"], citation["signer"])
    event = handlers.codec.decode(body.events[0].topic, body.events[0].state)
    assert (event.media_type, event.filename, event.size) == (DOCX, "handbook.docx", len(data))  # type: ignore[attr-defined]
    assert event.statement["body"]["sha256"] == event.sha256 == hashlib.sha256(data).hexdigest()  # type: ignore[attr-defined]
    assert event.text.startswith("# Member handbook\n\n# Workshop\n\nThe bike workshop")  # type: ignore[attr-defined]

    workshop = await handlers.ask(ask(c, know.member, "When is the bike workshop open?"))
    assert "Saturday" in workshop["passages"][0]["quote"]
    assert workshop["passages"][0]["heading"] == "Member handbook / Workshop"
    reduced = await handlers.search(ask(c, know.member, "dues on a reduced income", method="bm25"))
    assert any("Reduced income | 15 euros" in p["text"] for p in reduced["passages"])


async def test_an_opendocument_upload_is_answerable_too(know: Community, tmp_path: Path) -> None:
    c, handlers = know.slug, know.service.handlers
    added = await handlers.add_document(
        upload(know.admin, c, "March minutes", minutes(tmp_path), filename="minutes.odt")
    )
    answer = await handlers.ask(ask(c, know.member, "What did the assembly decide about the greenhouse?"))
    first = answer["passages"][0]
    assert first["source"]["key"] == f"document:{added['document']}"
    assert first["heading"] == "March minutes / Greenhouse"
    assert "approved a greenhouse" in first["quote"]
    library = await handlers.library(LibraryQuery(community=c, member=know.member.did))
    assert [(d["title"], d["document"]) for d in library["documents"]] == [
        ("March minutes", added["document"])
    ]


async def refused(coro: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await coro  # type: ignore[misc]
    return caught.value


async def test_bad_office_uploads_are_refused_and_record_nothing(know: Community, tmp_path: Path) -> None:
    c, handlers = know.slug, know.service.handlers
    good = handbook(tmp_path)
    padded = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(good)) as source,
        zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in source.infolist():
            out.writestr(info.filename, source.read(info))
        out.writestr("word/media/padding.bin", bytes(10_000_000))  # 10 MB of zeros, ~10 kB deflated
    blank = docx.Document()
    blank.add_paragraph("")
    blank.save(str(tmp_path / "blank.docx"))
    cases = {
        "corrupt_upload": (good[: len(good) // 2], "handbook.docx"),
        "encrypted_document": (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504), "locked.docx"),
        "too_large": (padded.getvalue(), "padded.docx"),
        "empty_document": ((tmp_path / "blank.docx").read_bytes(), "blank.docx"),
    }
    for code, (data, filename) in cases.items():
        refusal = await refused(
            handlers.add_document(upload(know.admin, c, "Handbook", data, filename=filename))
        )
        assert refusal.code == code, (code, refusal.message)
    commits = await know.service.stores["KNOWLEDGE"].read_commits(1, subject=f"knowledge.{c}.>")
    assert commits == []
    odt = minutes(tmp_path)
    await handlers.add_document(
        upload(know.admin, c, "March minutes", odt, filename="minutes.odt", media_type=ODT)
    )
    commits = await know.service.stores["KNOWLEDGE"].read_commits(1, subject=f"knowledge.{c}.>")
    assert [cm.commit.event_types for cm in commits] == [["knowledge.document_added.v1"]]
