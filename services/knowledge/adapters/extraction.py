"""Uploads to text: the type is sniffed from the bytes (never trusted from the name), and a file
that does not parse as what it claims to be is refused with a reason, not half-indexed. The name
and the declared content type only say what a damaged file was meant to be (`office.claimed_type`)."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import warnings
from dataclasses import dataclass
from html.parser import HTMLParser

from services.knowledge.adapters import office
from services.knowledge.adapters.office import DOCX, ODT
from services.knowledge.domain.errors import InvalidRequest, TooLarge, UnsupportedMedia

MARKDOWN = "text/markdown"
PLAIN = "text/plain"
HTML = "text/html"
PDF = "application/pdf"
SUPPORTED = (MARKDOWN, PLAIN, HTML, PDF, DOCX, ODT)
FORMATS = "Markdown, plain text, HTML, PDF, Word (.docx) and OpenDocument text (.odt)"
MAX_PDF_PAGES = 500
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<article|<main|<div|<p\b|<h[1-6])", re.I)
_MARKDOWN_HINT = re.compile(r"(^|\n)(#{1,6}\s|[-*]\s|\d+\.\s|>\s|```)")
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f]")

logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-PDF chatter; we refuse or accept


@dataclass(frozen=True)
class Extracted:
    media_type: str
    text: str
    size: int
    sha256: str


def extract(data: bytes, filename: str, max_bytes: int, max_chars: int, declared_type: str = "") -> Extracted:
    """The text of an upload; TooLarge, UnsupportedMedia or InvalidRequest('corrupt_upload')."""
    if len(data) > max_bytes:
        raise TooLarge("too_large", f"uploads are at most {max_bytes} bytes; this one is {len(data)}")
    if not data.strip():
        raise InvalidRequest("empty_document", "the upload is empty")
    digest = hashlib.sha256(data).hexdigest()
    claimed = office.claimed_type(filename, declared_type)
    if data.startswith(b"%PDF-"):
        media, text = PDF, _pdf_text(data)
    elif data.startswith(office.COMPOUND_FILE):
        office.refuse_compound_file(data, claimed)
    elif data.startswith(office.ZIP):
        media, text = office.office_text(data, claimed, max_bytes)
    else:
        if _BINARY.search(data[:4096]):
            if claimed:
                raise InvalidRequest(
                    "corrupt_upload",
                    f"this is not a {office.LABELS[claimed]} (no zip package): damaged, or another file",
                )
            raise UnsupportedMedia("unsupported_media", f"only {FORMATS} can be added (this is binary)")
        try:
            decoded = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnsupportedMedia("unsupported_media", f"text uploads must be UTF-8 ({exc.reason})") from exc
        if _HTML_START.match(data[:512]):
            media, text = HTML, html_text(decoded)
        elif filename.lower().endswith((".md", ".markdown")) or _MARKDOWN_HINT.search(decoded[:4000]):
            media, text = MARKDOWN, decoded
        else:
            media, text = PLAIN, decoded
    text = _tidy(text)
    if not text:
        kind = office.LABELS.get(media, media)
        raise InvalidRequest("empty_document", f"no text could be read from this {kind} upload")
    if len(text) > max_chars:
        raise TooLarge("too_much_text", f"documents hold at most {max_chars} characters of text")
    return Extracted(media, text, len(data), digest)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a damaged-but-readable PDF is accepted, not a warning
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UnsupportedMedia(
                    "encrypted_pdf", "encrypted PDFs cannot be indexed; upload it unlocked"
                )
            if len(reader.pages) > MAX_PDF_PAGES:
                raise TooLarge("too_many_pages", f"PDFs have at most {MAX_PDF_PAGES} pages")
            pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise InvalidRequest("corrupt_upload", f"this PDF cannot be read: {exc}") from exc
    return "\n\n".join(pages)


class _TextOfHtml(HTMLParser):
    SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg"})
    BLOCK = frozenset({"p", "div", "br", "li", "tr", "section", "article", "blockquote", "pre", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self.BLOCK or tag.startswith("h"):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_text(source: str) -> str:
    """Visible text of an HTML page (scripts and styles dropped), headings kept as Markdown."""
    parser = _TextOfHtml()
    parser.feed(source)
    parser.close()
    return "".join(parser.parts)


def _tidy(text: str) -> str:
    text = text.replace("\x00", "")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
