"""Word (.docx) and OpenDocument text (.odt) uploads to text, through python-docx and odfpy.

The text comes out the way the HTML path writes it, so chunking treats every format alike:
headings as Markdown heading lines (`## Dues`: they start passages and name them in citations),
paragraphs in order separated by blank lines, list items as `- item` / `3. item` lines and table
rows as lines of cells separated by ` | `. Headers, footers, footnotes, comments, text boxes,
tracked deletions and generated tables of contents are left out.

Both formats are zip packages. Before either library parses anything, the zip's directory is read
with `zipfile` and a package that would unpack to more than `UNPACK_RATIO` times the upload limit
(or holds more than `MAX_MEMBERS` files) is refused: zipfile never inflates a member past the size
its directory declares, so the libraries cannot be made to unpack more than was checked.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn
from xml.sax import SAXException

from services.knowledge.domain.chunking import TARGET_CHARS
from services.knowledge.domain.errors import InvalidRequest, TooLarge, UnsupportedMedia

if TYPE_CHECKING:
    from docx.document import Document as WordDocument
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.styles.style import ParagraphStyle

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
LABELS = {DOCX: "Word document", ODT: "OpenDocument text"}
ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first member, or the end record of an empty zip
COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: Word 97-2003, and encrypted .docx files
UNPACK_RATIO = 40  # a package may unpack to 40 times the upload limit (7.2 MB by default)
MAX_MEMBERS = 2000
_EXTENSIONS = {".docx": DOCX, ".odt": ODT}
# An encrypted OOXML file is an OLE2 container with this stream (its directory names are UTF-16LE).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_LOOKS_LIKE_HEADING = re.compile(r"^(\s{0,3}#{1,6})(\s|$)")
_UNREADABLE: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    IndexError,
    ValueError,  # includes defusedxml's refusals of DTDs and entities, and UnicodeDecodeError
    TypeError,
    AttributeError,
    NotImplementedError,  # a compression method zipfile does not know
    SAXException,
    SyntaxError,  # lxml's XMLSyntaxError
    RecursionError,
    OSError,
)


def claimed_type(filename: str, declared: str) -> str:
    """DOCX or ODT if the file's name or its declared content type says so, else ''. The bytes
    decide what a file is; the claim only lets a refusal say what the file was meant to be."""
    declared = declared.split(";")[0].strip().lower()
    if declared in LABELS:
        return declared
    name = filename.lower().strip()
    return next((media for ext, media in _EXTENSIONS.items() if name.endswith(ext)), "")


def refuse_compound_file(data: bytes, claimed: str) -> NoReturn:
    """An OLE2 compound file is never read: a .docx in one is password-protected."""
    if _ENCRYPTED_PACKAGE in data or claimed == DOCX:
        raise UnsupportedMedia(
            "encrypted_document",
            "this Word document is password-protected; remove the password and upload it again",
        )
    raise UnsupportedMedia(
        "unsupported_media",
        "old Office files (Word 97-2003 .doc and the like) cannot be read; save it as .docx or .odt",
    )


def office_text(data: bytes, claimed: str, max_bytes: int) -> tuple[str, str]:
    """(media type, text) of a zip upload that is a Word or OpenDocument text document."""
    what = f"this {_suffix(claimed)} file" if claimed else "this zip archive"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
            _check_unpacked_size(members, max_bytes)
            names = {m.filename for m in members}
            if "mimetype" in names or "META-INF/manifest.xml" in names:
                kind = package.read("mimetype")[:100].decode("ascii").strip() if "mimetype" in names else ODT
                if kind != ODT:
                    raise UnsupportedMedia(
                        "unsupported_media",
                        f"only OpenDocument text (.odt) can be added, not {kind or 'this OpenDocument file'}",
                    )
                manifest = package.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
                if b"encryption-data" in manifest:
                    raise UnsupportedMedia(
                        "encrypted_document",
                        "this OpenDocument file is password-protected; "
                        "save it without a password and upload it again",
                    )
                media = ODT
            elif "[Content_Types].xml" in names:
                media = DOCX
            elif claimed:
                raise InvalidRequest("corrupt_upload", f"{what} is a zip archive but not a {LABELS[claimed]}")
            else:
                raise UnsupportedMedia(
                    "unsupported_media",
                    "this zip archive is neither a Word (.docx) nor an OpenDocument text (.odt) document",
                )
    except _UNREADABLE as exc:
        raise InvalidRequest("corrupt_upload", f"{what} is damaged and cannot be read: {exc}") from exc
    return media, (_word_text(data) if media == DOCX else _odt_text(data))


def _suffix(media: str) -> str:
    return next(ext for ext, m in _EXTENSIONS.items() if m == media)


def _check_unpacked_size(members: list[zipfile.ZipInfo], max_bytes: int) -> None:
    limit = max_bytes * UNPACK_RATIO
    if len(members) > MAX_MEMBERS:
        raise TooLarge("too_large", f"documents hold at most {MAX_MEMBERS} files; this one {len(members)}")
    unpacked = sum(m.file_size for m in members)
    if unpacked > limit:
        raise TooLarge(
            "too_large",
            f"this document unpacks to {unpacked} bytes; documents may unpack to at most {limit} "
            f"({UNPACK_RATIO} times the upload limit)",
        )


class _Blocks:
    """The text being written: blocks separated by blank lines. List items and table rows are
    lines kept together in blocks of about a passage, so a long table is never cut mid-row."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self._lines: list[str] = []
        self._kind = ""
        self._size = 0

    def heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        if text:
            self.end()
            self.blocks.append("#" * min(max(level, 1), 6) + " " + text)

    def paragraph(self, text: str) -> None:
        lines = [_literal(line.strip()) for line in text.splitlines()]
        body = "\n".join(line for line in lines if line)
        if body:
            self.end()
            self.blocks.append(body)

    def line(self, kind: str, text: str) -> None:
        text = _literal(" ".join(text.split()))
        if not text:
            return
        if kind != self._kind or self._size + len(text) > TARGET_CHARS:
            self.end()
        self._lines.append(text)
        self._kind = kind
        self._size += len(text) + 1

    def end(self) -> None:
        if self._lines:
            self.blocks.append("\n".join(self._lines))
        self._lines, self._kind, self._size = [], "", 0

    def text(self) -> str:
        self.end()
        return "\n\n".join(self.blocks)


def _literal(line: str) -> str:
    """Body text that happens to start with '#' must not become a heading."""
    return _LOOKS_LIKE_HEADING.sub(r"\\\1\2", line, count=1)


def _row(cells: list[str]) -> str:
    cells = [" ".join(c.split()) for c in cells]
    while cells and not cells[-1]:
        cells.pop()
    return " | ".join(cells) if any(cells) else ""


def _number(value: int, style: str) -> str:
    """A list counter as Word (numFmt) or ODF (style:num-format) writes it."""
    if style in ("lowerLetter", "a", "upperLetter", "A"):
        letters = ""
        while value > 0:
            value, rest = divmod(value - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return letters.upper() if style in ("upperLetter", "A") else letters
    if style in ("lowerRoman", "i", "upperRoman", "I") and 0 < value < 4000:
        roman = ""
        for amount, symbol in _ROMAN:
            count, value = divmod(value, amount)
            roman += symbol * count
        return roman.upper() if style in ("upperRoman", "I") else roman
    return f"{value:02d}" if style == "decimalZero" else str(value)


_ROMAN = (
    (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
    (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
)  # fmt: skip


# ---------------------------------------------------------------- Word (python-docx)


def _word_text(data: bytes) -> str:
    from docx.opc.constants import CONTENT_TYPE
    from docx.opc.exceptions import OpcError
    from docx.package import Package

    unreadable: tuple[type[BaseException], ...] = (*_UNREADABLE, OpcError)
    try:
        main = Package.open(io.BytesIO(data)).main_document_part
        if main.content_type != CONTENT_TYPE.WML_DOCUMENT_MAIN:
            raise UnsupportedMedia(
                "unsupported_media",
                f"only Word documents (.docx) can be added, not {main.content_type}",
            )
        document: WordDocument = main.document
        return _Word(document).text()
    except unreadable as exc:
        raise InvalidRequest("corrupt_upload", f"this Word document cannot be read: {exc}") from exc


class _Word:
    """The body of a Word document, walked in order through python-docx's element tree."""

    def __init__(self, document: WordDocument) -> None:
        from docx.opc.constants import RELATIONSHIP_TYPE
        from docx.oxml.ns import qn

        self.document = document
        self.qn = qn
        self.out = _Blocks()
        try:
            self.numbering: BaseOxmlElement | None = document.part.part_related_by(
                RELATIONSHIP_TYPE.NUMBERING
            ).element  # type: ignore[attr-defined]
        except KeyError:
            self.numbering = None
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self.counters: dict[str, list[int | None]] = {}
        self.last_list = ""

    def text(self) -> str:
        self.blocks(self.document.element.body)
        return self.out.text()

    def blocks(self, parent: BaseOxmlElement) -> None:
        qn = self.qn
        for child in parent.iterchildren():
            if child.tag == qn("w:p"):
                self.paragraph(child)
            elif child.tag == qn("w:tbl"):
                self.out.end()
                for tr in child.iterchildren(qn("w:tr")):
                    self.out.line("table", _row([self.cell(tc) for tc in tr.iterchildren(qn("w:tc"))]))
                self.out.end()
            elif child.tag == qn("w:sdt") and child.find(f"{qn('w:sdtPr')}/{qn('w:docPartObj')}") is None:
                # a content control's content, unless it is a generated part (table of contents, cover)
                for content in child.iterchildren(qn("w:sdtContent")):
                    self.blocks(content)
            elif child.tag == qn("w:customXml"):
                self.blocks(child)

    def cell(self, tc: BaseOxmlElement) -> str:
        paragraphs = (p for p in tc.iter(self.qn("w:p")) if self._own_text(p, tc))
        return " ".join(self.runs(p) for p in paragraphs)

    def paragraph(self, p: BaseOxmlElement) -> None:
        from docx.text.paragraph import Paragraph

        text = self.runs(p)
        if not text.strip():
            return
        style = Paragraph(p, self.document).style
        if style is not None and style.name and style.name.lower().startswith("toc "):
            return  # a table of contents written as plain paragraphs
        level = self.outline_level(p, style)
        numbered = self.numbering_of(p, style)
        marker = self.marker(*numbered) if numbered is not None else ""
        previous, self.last_list = self.last_list, ""
        if level:  # a numbered heading keeps its number ("3. Membership")
            self.out.heading(level, f"{marker} {text}" if marker not in ("", "-") else text)
        elif numbered is not None:
            if numbered[0] != previous:
                self.out.end()  # another list: another block
            self.last_list = numbered[0]
            self.out.line("list", f"{marker} {text}")
        else:
            self.out.paragraph(text)

    def runs(self, p: BaseOxmlElement) -> str:
        """The paragraph's text, inserted revisions included, deleted ones and text boxes not."""
        qn = self.qn
        skip = {qn("w:del"), qn("w:moveFrom"), qn("w:p"), qn("w:txbxContent")}
        parts = []
        for run in p.iter(qn("w:r")):
            owner = run.getparent()
            while owner is not None and owner is not p and owner.tag not in skip:
                owner = owner.getparent()
            if owner is p:
                parts.append(run.text)
        return "".join(parts)

    def _own_text(self, p: BaseOxmlElement, tc: BaseOxmlElement) -> bool:
        node = p.getparent()
        while node is not None and node is not tc:
            if node.tag in (self.qn("w:txbxContent"), self.qn("w:p")):
                return False
            node = node.getparent()
        return True

    def _styles(self, style: ParagraphStyle | None) -> Iterator[ParagraphStyle]:
        seen = 0
        while style is not None and seen < 20:
            yield style
            style, seen = style.base_style, seen + 1

    def _properties(self, p: BaseOxmlElement, style: ParagraphStyle | None) -> Iterator[Any]:
        """The paragraph's own properties (w:pPr), then its style's and their base styles'."""
        tag = self.qn("w:pPr")
        for ppr in [p.find(tag), *(s.element.find(tag) for s in self._styles(style))]:
            if ppr is not None:
                yield ppr

    def outline_level(self, p: BaseOxmlElement, style: ParagraphStyle | None) -> int:
        """1-9 for a heading (outline level, or a heading/Title style), 0 for body text."""
        for ppr in self._properties(p, style):
            if (value := self._val(ppr, "w:outlineLvl")) is not None:
                level = _int(value, 9)
                return level + 1 if 0 <= level < 9 else 0
        for s in self._styles(style):
            name = (s.name or "").lower()
            if name == "title":
                return 1
            if match := re.fullmatch(r"heading ([1-9])", name):
                return int(match.group(1))
        return 0

    def numbering_of(self, p: BaseOxmlElement, style: ParagraphStyle | None) -> tuple[str, int] | None:
        num_id: str | None = None
        ilvl: int | None = None
        for ppr in self._properties(p, style):
            numpr = ppr.find(self.qn("w:numPr"))
            if numpr is not None:
                num_id = num_id if num_id is not None else self._val(numpr, "w:numId")
                ilvl = ilvl if ilvl is not None else _int(self._val(numpr, "w:ilvl"), 0)
        if num_id is None or num_id == "0":  # numId 0 switches inherited numbering off
            return None
        return num_id, min(max(ilvl or 0, 0), 8)

    def marker(self, num_id: str, ilvl: int) -> str:
        levels = self._levels(num_id)
        style, template, start = levels.get(ilvl, ("bullet", "", 1))
        if style in ("bullet", "none", ""):
            return "-"
        counters = self.counters.setdefault(num_id, [None] * 9)
        current = counters[ilvl]
        counters[ilvl] = start if current is None else current + 1
        for deeper in range(ilvl + 1, 9):
            counters[deeper] = None

        def value(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            fmt, _, first = levels.get(level, ("decimal", "", 1))
            return _number(counters[level] or first, fmt)

        return re.sub(r"%([1-9])", value, template).strip() or f"{counters[ilvl]}."

    def _levels(self, num_id: str) -> dict[int, tuple[str, str, int]]:
        """numFmt, lvlText and start of each level of a numbering definition."""
        if num_id in self.levels:
            return self.levels[num_id]
        levels: dict[int, tuple[str, str, int]] = {}
        qn = self.qn
        if self.numbering is not None and num_id.isdigit():
            nums = self.numbering.xpath(f'./w:num[@w:numId="{num_id}"]')
            abstract_ids = nums[0].xpath("./w:abstractNumId/@w:val") if nums else []
            abstract = (
                self.numbering.xpath(f'./w:abstractNum[@w:abstractNumId="{int(abstract_ids[0])}"]')
                if abstract_ids and str(abstract_ids[0]).isdigit()
                else []
            )
            for lvl in abstract[0].iterchildren(qn("w:lvl")) if abstract else ():
                levels[_int(lvl.get(qn("w:ilvl")), 0)] = (
                    self._val(lvl, "w:numFmt") or "decimal",
                    self._val(lvl, "w:lvlText") or "",
                    _int(self._val(lvl, "w:start"), 1),
                )
            for override in nums[0].iterchildren(qn("w:lvlOverride")) if nums else ():
                ilvl = _int(override.get(qn("w:ilvl")), 0)
                start = self._val(override, "w:startOverride")
                if ilvl in levels and start is not None:
                    levels[ilvl] = (*levels[ilvl][:2], _int(start, 1))
        self.levels[num_id] = levels
        return levels

    def _val(self, parent: Any, tag: str) -> str | None:
        child = parent.find(self.qn(tag))
        return None if child is None else child.get(self.qn("w:val"))


# ---------------------------------------------------------------- OpenDocument (odfpy)


def _odt_text(data: bytes) -> str:
    from odf.opendocument import load

    # odfpy prints a part that fails to parse to stdout and carries on with an empty document; that
    # output (the document's own XML) is captured here and turned into a refusal.
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            document = load(io.BytesIO(data))
        if "SAX FAILED TO PARSE" in printed.getvalue() or document.text is None:
            raise InvalidRequest("corrupt_upload", "this OpenDocument file is damaged and cannot be read")
        return _Odt(document).text()
    except _UNREADABLE as exc:
        raise InvalidRequest("corrupt_upload", f"this OpenDocument file cannot be read: {exc}") from exc


class _Odt:
    """The office:text body of an OpenDocument text, walked in order through odfpy's elements."""

    def __init__(self, document: Any) -> None:
        from odf.namespaces import DRAWNS, OFFICENS, STYLENS, TABLENS, TEXTNS

        self.document = document
        self.text_ns, self.table_ns, self.style_ns = TEXTNS, TABLENS, STYLENS
        self.out = _Blocks()
        self.skip_inline = {
            (TEXTNS, "note"), (OFFICENS, "annotation"), (OFFICENS, "annotation-end"),
            (TEXTNS, "tracked-changes"), (TEXTNS, "soft-page-break"),
        }  # fmt: skip
        self.draw_ns = DRAWNS
        self.list_styles: dict[str, dict[int, Any]] = {}
        self.parents: dict[str, str] = {}
        for styles in (document.styles, document.automaticstyles):
            for style in _elements(styles):
                name = style.getAttrNS(STYLENS, "name") or ""
                if style.qname == (TEXTNS, "list-style"):
                    self.list_styles[name] = {
                        int(level.getAttrNS(TEXTNS, "level") or 1): level for level in _elements(style)
                    }
                elif style.qname == (STYLENS, "style"):
                    self.parents[name] = style.getAttrNS(STYLENS, "parent-style-name") or ""

    def text(self) -> str:
        self.blocks(self.document.text)
        return self.out.text()

    def blocks(self, parent: Any) -> None:
        text, table = self.text_ns, self.table_ns
        for child in _elements(parent):
            if child.qname == (text, "h"):
                level = child.getAttrNS(text, "outline-level") or "1"
                self.out.heading(int(level) if level.isdigit() else 1, self.inline(child))
            elif child.qname == (text, "p"):
                if self._is_title(child):
                    self.out.heading(1, self.inline(child))
                else:
                    self.out.paragraph(self.inline(child))
            elif child.qname == (text, "list"):
                self.out.end()  # another list: another block
                self.list(child, "", [])
            elif child.qname == (table, "table"):
                self.table(child)
            elif child.qname == (text, "section"):
                self.blocks(child)

    def _is_title(self, p: Any) -> bool:
        name = p.getAttrNS(self.text_ns, "style-name") or ""
        for _ in range(20):
            if name == "Title":
                return True
            if not (name := self.parents.get(name, "")):
                return False
        return False

    def inline(self, node: Any) -> str:
        parts: list[str] = []
        for child in node.childNodes:
            if child.nodeType == child.TEXT_NODE:
                parts.append(child.data)
            elif child.nodeType != child.ELEMENT_NODE:
                continue
            elif child.qname == (self.text_ns, "s"):
                count = child.getAttrNS(self.text_ns, "c") or "1"
                parts.append(" " * min(int(count) if count.isdigit() else 1, 100))
            elif child.qname == (self.text_ns, "tab"):
                parts.append("\t")
            elif child.qname == (self.text_ns, "line-break"):
                parts.append("\n")
            elif child.qname in self.skip_inline or child.qname[0] == self.draw_ns:
                continue
            else:  # spans, links, fields, a heading's number
                parts.append(self.inline(child))
        return "".join(parts)

    def list(self, node: Any, style: str, numbers: list[int]) -> None:
        style = node.getAttrNS(self.text_ns, "style-name") or style
        depth = len(numbers) + 1
        level = self.list_styles.get(style, {}).get(depth)
        if level is None or level.qname != (self.text_ns, "list-level-style-number"):
            level = None  # bullets (or a style not found): "-"
        fmt = (level.getAttrNS(self.style_ns, "num-format") or "") if level is not None else ""
        start = level.getAttrNS(self.text_ns, "start-value") if level is not None else None
        count = _int(start, 1) - 1
        for item in _elements(node):
            marker = "-"
            if item.qname == (self.text_ns, "list-item"):
                count = _int(item.getAttrNS(self.text_ns, "start-value"), count + 1)
                if level is not None and fmt:
                    shown = _int(level.getAttrNS(self.text_ns, "display-levels"), 1)
                    chain = [*numbers, count][-max(shown, 1) :]
                    prefix = level.getAttrNS(self.style_ns, "num-prefix") or ""
                    suffix = level.getAttrNS(self.style_ns, "num-suffix") or ""
                    marker = prefix + ".".join(_number(n, fmt) for n in chain) + suffix
            elif item.qname != (self.text_ns, "list-header"):
                continue
            for child in _elements(item):
                if child.qname in ((self.text_ns, "p"), (self.text_ns, "h")):
                    self.out.line("list", f"{marker} {self.inline(child)}" if marker else self.inline(child))
                    marker = ""  # further paragraphs of one item carry no marker
                elif child.qname == (self.text_ns, "list"):
                    self.list(child, style, [*numbers, count])
                elif child.qname == (self.table_ns, "table"):
                    self.table(child)

    def table(self, node: Any) -> None:
        self.out.end()
        for row in self._rows(node):
            cells = [
                self._cell(cell) if cell.qname == (self.table_ns, "table-cell") else ""
                for cell in _elements(row)
                if cell.qname in ((self.table_ns, "table-cell"), (self.table_ns, "covered-table-cell"))
            ]
            self.out.line("table", _row(cells))
        self.out.end()

    def _rows(self, node: Any) -> Iterator[Any]:
        groups = {(self.table_ns, n) for n in ("table-header-rows", "table-rows", "table-row-group")}
        for child in _elements(node):
            if child.qname == (self.table_ns, "table-row"):
                yield child
            elif child.qname in groups:
                yield from self._rows(child)

    def _cell(self, node: Any) -> str:
        parts = []
        for child in _elements(node):
            if child.qname in ((self.text_ns, "p"), (self.text_ns, "h")):
                parts.append(self.inline(child))
            else:  # lists, sections and tables inside the cell, flattened
                parts.append(self._cell(child))
        return " ".join(p for p in parts if p.strip())


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _elements(node: Any) -> Iterator[Any]:
    return (child for child in node.childNodes if child.nodeType == child.ELEMENT_NODE)
