"""Word (.docx) and OpenDocument text (.odt) uploads: real files written by python-docx and odfpy
come out as headings, paragraphs, list items and table rows in order; damaged, encrypted, empty,
foreign and oversized packages are refused with a typed reason before anything is parsed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from odf.opendocument import OpenDocumentText
from odf.style import Style
from odf.table import CoveredTableCell, Table, TableCell, TableColumn, TableRow
from odf.text import (
    H,
    LineBreak,
    List,
    ListItem,
    ListLevelStyleBullet,
    ListLevelStyleNumber,
    ListStyle,
    Note,
    NoteBody,
    NoteCitation,
    P,
    S,
    Span,
)

from services.knowledge.adapters.extraction import extract
from services.knowledge.adapters.office import DOCX, ODT, UNPACK_RATIO, claimed_type
from services.knowledge.domain.chunking import chunk_text
from shared.domain import DomainError

LIMIT = 180_000  # the service's default upload limit
OLE = bytes.fromhex("D0CF11E0A1B11AE1")


def word_file(tmp_path: Path) -> Path:
    """A handbook with a title, headings, a paragraph with tracked changes, lists and a table."""
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Printed copy - header text"
    document.add_heading("Riverside Food Co-op handbook", 0)
    document.add_paragraph("Adopted at the spring assembly.")
    document.add_heading("Membership", 1)
    document.add_paragraph("Anyone who shops here may join.")
    document.add_paragraph("")  # an empty paragraph is skipped
    document.add_paragraph("   ")
    document.add_paragraph("# is the sign on the back door.")  # body text, not a heading
    document.add_paragraph("Members may", style="List Paragraph")
    document.add_paragraph("vote at assemblies", style="List Bullet")
    document.add_paragraph("borrow the van", style="List Bullet")
    document.add_heading("Dues", 2)
    dues = document.add_paragraph("Dues are ")
    dues._p.append(parse_xml(f'<w:del {nsdecls("w")} w:id="1" w:author="Ada" w:date="2025-01-01T00:00:00Z">'
                             "<w:r><w:delText>thirty</w:delText></w:r></w:del>"))  # fmt: skip
    dues._p.append(parse_xml(f'<w:ins {nsdecls("w")} w:id="2" w:author="Ada" w:date="2025-01-01T00:00:00Z">'
                             "<w:r><w:t>forty</w:t></w:r></w:ins>"))  # fmt: skip
    dues.add_run(" euros a year.")
    document.add_paragraph("Pay the treasurer", style="List Number")
    document.add_paragraph("Keep the receipt", style="List Number")
    rule = document.styles.add_style("Rule heading", WD_STYLE_TYPE.PARAGRAPH)
    rule.element.get_or_add_pPr().append(OxmlElement("w:outlineLvl", {qn("w:val"): "1"}))
    document.add_paragraph("Reduced dues", style="Rule heading")  # a custom style at outline level 2
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate((("Membership", "Dues", "Vote"), ("Full", "40 euros", "yes"))):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    table.cell(2, 0).merge(table.cell(2, 1)).text = "Supporting, no dues"  # one cell spanning two
    table.cell(2, 2).text = "no"
    document.add_paragraph("Ask the treasurer about hardship.")
    path = tmp_path / "handbook.docx"
    document.save(str(path))
    return path


WORD_TEXT = """# Riverside Food Co-op handbook

Adopted at the spring assembly.

# Membership

Anyone who shops here may join.

\\# is the sign on the back door.

Members may

- vote at assemblies
- borrow the van

## Dues

Dues are forty euros a year.

1. Pay the treasurer
2. Keep the receipt

## Reduced dues

Membership | Dues | Vote
Full | 40 euros | yes
Supporting, no dues | no

Ask the treasurer about hardship."""


def test_a_word_document_keeps_its_headings_paragraphs_lists_and_tables_in_order(tmp_path: Path) -> None:
    data = word_file(tmp_path).read_bytes()
    extracted = extract(data, "handbook.docx", LIMIT, 400_000)
    assert extracted.media_type == DOCX
    assert extracted.text == WORD_TEXT
    assert "header text" not in extracted.text
    chunks = chunk_text(extracted.text, "Handbook")
    assert [c.heading for c in chunks] == [
        "Riverside Food Co-op handbook", "Membership", "Dues", "Reduced dues",
    ]  # fmt: skip
    assert chunks[2].text == "Dues are forty euros a year.\n\n1. Pay the treasurer\n2. Keep the receipt"
    assert chunks[3].text.startswith("Membership | Dues | Vote\nFull | 40 euros | yes")


def test_word_numbering_follows_the_documents_own_list_definitions(tmp_path: Path) -> None:
    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.append(parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="3"/><w:numFmt w:val="decimal"/>'
        '<w:lvlText w:val="Article %1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>'
        '<w:lvlText w:val="%1.%2)"/></w:lvl>'
        "</w:abstractNum>"
    ))  # fmt: skip
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    for level, text in ((0, "Members"), (1, "who may join"), (1, "who may vote"), (0, "Dues")):
        paragraph = document.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'
        ))  # fmt: skip
    heading = document.add_heading("Closing", 1)
    heading._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="90"/></w:numPr>')
    )
    path = tmp_path / "statutes.docx"
    document.save(str(path))
    text = extract(path.read_bytes(), path.name, LIMIT, 400_000).text
    assert text == (
        "Article 3. Members\n3.a) who may join\n3.b) who may vote\nArticle 4. Dues\n\n# Article 5. Closing"
    )


def opendocument_file(tmp_path: Path) -> Path:
    document = OpenDocumentText()
    title = Style(name="Title", family="paragraph")
    document.styles.addElement(title)
    titled = Style(name="P1", family="paragraph", parentstylename="Title")
    numbered = ListStyle(name="L1")
    numbered.addElement(ListLevelStyleNumber(level=1, numformat="1", numsuffix="."))
    numbered.addElement(ListLevelStyleNumber(level=2, numformat="a", numsuffix=")"))
    bullets = ListStyle(name="L2")
    bullets.addElement(ListLevelStyleBullet(level=1, bulletchar="•"))
    for style in (titled, numbered, bullets):
        document.automaticstyles.addElement(style)
    body = document.text
    body.addElement(P(stylename=titled, text="Minutes of the March assembly"))
    body.addElement(H(outlinelevel=1, text="Attendance"))
    present = P(text="Twelve members")
    present.addElement(S(c=3))
    present.addText("were present.")
    footnote = Note(noteclass="footnote")
    footnote.addElement(NoteCitation(text="1"))
    footnote_body = NoteBody()
    footnote_body.addElement(P(text="Counted by the secretary."))
    footnote.addElement(footnote_body)
    present.addElement(footnote)
    body.addElement(present)
    body.addElement(P(text=""))
    body.addElement(H(outlinelevel=2, text="Decisions"))
    decisions = List(stylename=numbered)
    for text in ("The van is sold.", "Dues rise to forty euros."):
        item = ListItem()
        item.addElement(P(text=text))
        decisions.addElement(item)
    detail = List()
    sub = ListItem()
    sub.addElement(P(text="from January"))
    detail.addElement(sub)
    item.addElement(detail)
    body.addElement(decisions)
    tasks = List(stylename=bullets)
    task = ListItem()
    emphasised = P(text="Ada ")
    emphasised.addElement(Span(text="writes"))
    emphasised.addText(" to the bank.")
    task.addElement(emphasised)
    tasks.addElement(task)
    body.addElement(tasks)
    body.addElement(H(outlinelevel=2, text="Votes"))
    table = Table(name="Votes")
    table.addElement(TableColumn(numbercolumnsrepeated=3))
    for cells in (("Motion", "For", "Against"), ("Sell the van", "9", "3"), ("Dues", None, "4")):
        row = TableRow()
        for text in cells:
            if text is None:
                row.addElement(CoveredTableCell())
                continue
            cell = TableCell()
            cell.addElement(P(text=text))
            row.addElement(cell)
        table.addElement(row)
    body.addElement(table)
    closing = P(text="Closed at 21:00.")
    closing.addElement(LineBreak())
    closing.addText("Next assembly in June.")
    body.addElement(closing)
    path = tmp_path / "minutes.odt"
    document.save(str(path))
    return path


def test_an_opendocument_text_keeps_its_headings_paragraphs_lists_and_tables_in_order(
    tmp_path: Path,
) -> None:
    data = opendocument_file(tmp_path).read_bytes()
    extracted = extract(data, "minutes.odt", LIMIT, 400_000)
    assert extracted.media_type == ODT
    assert extracted.text == (
        "# Minutes of the March assembly\n\n# Attendance\n\nTwelve members were present.\n\n"
        "## Decisions\n\n1. The van is sold.\n2. Dues rise to forty euros.\na) from January\n\n"
        "- Ada writes to the bank.\n\n## Votes\n\nMotion | For | Against\nSell the van | 9 | 3\n"
        "Dues | | 4\n\nClosed at 21:00.\nNext assembly in June."
    )
    assert "secretary" not in extracted.text  # footnotes are left out
    chunks = chunk_text(extracted.text, "Minutes")
    # The title heads no passage of its own (nothing stands under it before the next heading).
    assert [c.heading for c in chunks] == ["Attendance", "Decisions", "Votes"]
    assert chunks[1].text == (
        "1. The van is sold.\n2. Dues rise to forty euros.\na) from January\n\n- Ada writes to the bank."
    )


def test_the_bytes_decide_and_the_name_or_declared_type_only_names_the_claim(tmp_path: Path) -> None:
    word = word_file(tmp_path).read_bytes()
    opendocument = opendocument_file(tmp_path).read_bytes()
    assert extract(word, "", LIMIT, 400_000).media_type == DOCX
    assert extract(opendocument, "upload.bin", LIMIT, 400_000).media_type == ODT
    assert extract(word, "", LIMIT, 400_000, declared_type=DOCX).media_type == DOCX
    assert claimed_type("Rules.DOCX", "") == DOCX
    assert claimed_type("", f"{ODT}; charset=binary") == ODT
    assert claimed_type("minutes", "application/octet-stream") == ""
    # Only the claim turns a damaged file into "corrupt" rather than "not a supported type".
    garbage = b"\x01\x02\x03 not a package \x00" * 20
    assert refusal(garbage, "rules.docx").code == "corrupt_upload"
    assert refusal(garbage, "rules", declared_type=ODT).code == "corrupt_upload"
    assert refusal(garbage, "rules.bin").code == "unsupported_media"


def refusal(data: bytes, filename: str, max_bytes: int = LIMIT, declared_type: str = "") -> DomainError:
    with pytest.raises(DomainError) as refused:
        extract(data, filename, max_bytes, 400_000, declared_type)
    return refused.value


def rezip(data: bytes, replace: dict[str, bytes | None], extra: dict[str, bytes] | None = None) -> bytes:
    """The package with some members replaced (None: left out) and others added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = replace.get(info.filename, source.read(info))
            if content is not None:
                target.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def test_damaged_packages_are_refused_as_corrupt(tmp_path: Path) -> None:
    word = word_file(tmp_path).read_bytes()
    opendocument = opendocument_file(tmp_path).read_bytes()
    truncated = refusal(word[: len(word) // 2], "handbook.docx")
    assert (truncated.code, truncated.status) == ("corrupt_upload", 422)
    # A member whose compressed bytes were damaged: the zip's directory is intact, inflating fails.
    with zipfile.ZipFile(io.BytesIO(word)) as package:
        info = package.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = bytearray(word)
    for at in range(start + 10, start + 60):
        damaged[at] ^= 0x5A
    assert refusal(bytes(damaged), "handbook.docx").code == "corrupt_upload"
    broken_xml = rezip(word, {"word/document.xml": b"<w:document xmlns:w='urn:x'><w:body><w:p>"})
    assert refusal(broken_xml, "handbook.docx").code == "corrupt_upload"
    no_main_part = rezip(word, {"word/document.xml": None})
    assert refusal(no_main_part, "handbook.docx").code == "corrupt_upload"
    entity = b'<!DOCTYPE x [<!ENTITY e "boom">]><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">&e;</office:document-content>'  # noqa: E501
    assert refusal(rezip(opendocument, {"content.xml": entity}), "minutes.odt").code == "corrupt_upload"


def test_broken_opendocument_xml_is_refused_without_printing_the_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opendocument = opendocument_file(tmp_path).read_bytes()
    broken = rezip(opendocument, {"content.xml": b"<office:document-content xmlns:office='x'><oops"})
    assert refusal(broken, "minutes.odt").code == "corrupt_upload"
    assert capsys.readouterr().out == ""  # odfpy prints a part it cannot parse; that stays inside


def test_zip_files_that_are_not_text_documents_are_refused(tmp_path: Path) -> None:
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("photos/readme.txt", "holiday photos")
    claimed = refusal(plain.getvalue(), "rules.docx")
    assert (claimed.code, claimed.status) == ("corrupt_upload", 422)
    assert claimed.message == "this .docx file is a zip archive but not a Word document"
    assert refusal(plain.getvalue(), "photos.zip").code == "unsupported_media"
    # An Office Open XML package whose main part is a spreadsheet, renamed .docx.
    sheet = io.BytesIO()
    with zipfile.ZipFile(sheet, "w") as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Override PartName="/xl/workbook.xml"'
            ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            "</Types>"
        ))  # fmt: skip
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ))  # fmt: skip
        archive.writestr("xl/workbook.xml", '<workbook xmlns="urn:x"/>')
    spreadsheet = refusal(sheet.getvalue(), "budget.docx")
    assert (spreadsheet.code, spreadsheet.status) == ("unsupported_media", 415)
    assert "spreadsheetml" in spreadsheet.message
    opendocument = opendocument_file(tmp_path).read_bytes()
    ods = rezip(opendocument, {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})
    assert refusal(ods, "budget.odt").code == "unsupported_media"


def test_encrypted_and_old_office_files_are_refused(tmp_path: Path) -> None:
    header = OLE + bytes(504)  # an OLE2 compound file's header: Word 97-2003, or an encrypted .docx
    encrypted = refusal(header, "handbook.docx")
    assert (encrypted.code, encrypted.status) == ("encrypted_document", 415)
    marked = header + "EncryptedPackage".encode("utf-16-le")
    assert refusal(marked, "upload", declared_type="").code == "encrypted_document"
    assert refusal(header, "handbook.doc").code == "unsupported_media"
    opendocument = opendocument_file(tmp_path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(opendocument)) as package:
        manifest = package.read("META-INF/manifest.xml")
    locked = manifest.replace(
        b'manifest:full-path="content.xml" manifest:media-type="text/xml"/>',
        b'manifest:full-path="content.xml" manifest:media-type="text/xml"><manifest:encryption-data'
        b' manifest:checksum-type="SHA1/1K" manifest:checksum="x"/></manifest:file-entry>',
    )
    assert locked != manifest
    refused = refusal(rezip(opendocument, {"META-INF/manifest.xml": locked}), "minutes.odt")
    assert (refused.code, refused.status) == ("encrypted_document", 415)


def test_documents_without_text_are_refused(tmp_path: Path) -> None:
    blank = docx.Document()
    blank.add_paragraph("")
    blank.add_paragraph("   ")
    blank.sections[0].footer.paragraphs[0].text = "Only a footer"
    blank.save(str(tmp_path / "blank.docx"))
    empty = refusal((tmp_path / "blank.docx").read_bytes(), "blank.docx")
    assert (empty.code, empty.status, empty.message) == (
        "empty_document", 422, "no text could be read from this Word document upload",
    )  # fmt: skip
    nothing = OpenDocumentText()
    nothing.text.addElement(P(text=""))
    nothing.text.addElement(H(outlinelevel=1, text=" "))
    nothing.save(str(tmp_path / "blank.odt"))
    assert refusal((tmp_path / "blank.odt").read_bytes(), "blank.odt").code == "empty_document"


def test_packages_that_unpack_too_far_are_refused_before_parsing(tmp_path: Path) -> None:
    word = word_file(tmp_path).read_bytes()
    bomb = rezip(word, {}, {"word/media/padding.bin": bytes(LIMIT * UNPACK_RATIO)})
    assert len(bomb) < LIMIT  # small on the wire: zeros deflate a thousandfold
    refused = refusal(bomb, "handbook.docx")
    assert (refused.code, refused.status) == ("too_large", 413)
    assert "unpack" in refused.message
    many = rezip(word, {}, {f"word/media/{n}.txt": b"" for n in range(2001)})
    assert refusal(many, "handbook.docx").code == "too_large"
    # The bound follows the configured upload limit: twice the limit, and the same file is read.
    assert extract(bomb, "handbook.docx", 2 * LIMIT, 400_000).text == WORD_TEXT
