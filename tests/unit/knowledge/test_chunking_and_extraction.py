"""Passages and text extraction: headings carried, sizes bounded, types sniffed from the bytes."""

from __future__ import annotations

import hashlib

import pytest

from services.knowledge.adapters.extraction import HTML, MARKDOWN, PDF, PLAIN, extract
from services.knowledge.domain.chunking import MAX_CHARS, chunk_text
from shared.domain import DomainError
from tests.service.test_knowledge_support import tiny_pdf


def test_headings_start_passages_and_name_them() -> None:
    text = "Intro line.\n\n# Dues\n\nForty euros a year.\n\n## Reduced\nFifteen euros on a low income."
    chunks = chunk_text(text, "Handbook")
    assert [(c.heading, c.text) for c in chunks] == [
        ("Handbook", "Intro line."),
        ("Dues", "Forty euros a year."),
        ("Reduced", "Fifteen euros on a low income."),
    ]


def test_long_text_is_split_at_sentences_and_never_exceeds_the_limit() -> None:
    sentence = "The orchard needs pruning in February before the sap rises. "
    chunks = chunk_text(sentence * 100)
    assert len(chunks) > 5
    assert all(len(c.text) <= MAX_CHARS for c in chunks)
    assert all(c.text.endswith("rises.") for c in chunks)
    run_on = chunk_text("x" * 5000)
    assert [len(c.text) for c in run_on] == [1000] * 5


def test_types_are_sniffed_from_the_bytes_not_the_name() -> None:
    page = b"<!doctype html><html><head><style>p{}</style><script>alert(1)</script></head>"
    page += b"<body><h2>Opening hours</h2><p>Saturday &amp; Sunday 10-14</p></body></html>"
    html = extract(page, "notes.txt", 10_000, 10_000)
    assert (html.media_type, html.text) == (HTML, "## Opening hours\n\nSaturday & Sunday 10-14")
    assert extract(b"# Title\n\n- one\n- two", "x.bin", 1000, 1000).media_type == MARKDOWN
    assert extract(b"Just a note.", "note", 1000, 1000).media_type == PLAIN
    pdf = extract(tiny_pdf("Ferry at 7:15."), "ferry.txt", 10_000, 10_000)
    assert (pdf.media_type, pdf.text) == (PDF, "Ferry at 7:15.")
    assert pdf.sha256 == hashlib.sha256(tiny_pdf("Ferry at 7:15.")).hexdigest()


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"x" * 2001, "too_large"),
        (b"  \n", "empty_document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "unsupported_media"),
        (b"caf\xe9 au lait", "unsupported_media"),
        (b"%PDF-1.7\n1 0 obj <<", "corrupt_upload"),
        (b"<html><script>only()</script></html>", "empty_document"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason(data: bytes, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        extract(data, "upload", 2000, 2000)
    assert refused.value.code == code


def test_too_much_text_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        extract(b"word " * 500, "a.txt", 10_000, 1_000)
    assert (refused.value.code, refused.value.status) == ("too_much_text", 413)
