"""Splitting a source's text into passages that are small enough to quote and to embed well.

Paragraph boundaries are kept where possible; a Markdown heading starts a new passage and its
text is carried into the passages under it, so a passage still says what it is about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TARGET_CHARS = 700
MAX_CHARS = 1000
MAX_CHUNKS = 2000  # one source never floods an index
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    heading: str
    text: str


def chunk_text(text: str, title: str = "") -> list[Chunk]:
    """Passages of about TARGET_CHARS characters (never more than MAX_CHARS)."""
    chunks: list[Chunk] = []
    heading = title.strip()
    buffer: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal buffer, size
        body = "\n\n".join(buffer).strip()
        if body:
            chunks.append(Chunk(len(chunks), heading, body))
        buffer, size = [], 0

    for block in _blocks(text):
        match = _HEADING.match(block) if "\n" not in block else None
        if match:
            flush()
            heading = match.group(2).strip() or heading
            continue
        for piece in _fit(block):
            if size and size + len(piece) > TARGET_CHARS:
                flush()
            buffer.append(piece)
            size += len(piece) + 2
        if len(chunks) >= MAX_CHUNKS:
            break
    flush()
    return chunks[:MAX_CHUNKS]


def _blocks(text: str) -> list[str]:
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for raw in re.split(r"\n\s*\n", normalised):
        lines = raw.strip("\n").split("\n")
        current: list[str] = []
        for line in lines:  # a heading line inside a block still starts a new passage
            if _HEADING.match(line):
                if current:
                    out.append("\n".join(current).strip())
                    current = []
                out.append(line.strip())
            else:
                current.append(line)
        if current and "\n".join(current).strip():
            out.append("\n".join(current).strip())
    return [b for b in out if b]


def _fit(block: str) -> list[str]:
    """A block longer than MAX_CHARS split at sentence ends (or hard, for a run-on string)."""
    if len(block) <= MAX_CHARS:
        return [block]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(block):
        while len(sentence) > MAX_CHARS:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:MAX_CHARS])
            sentence = sentence[MAX_CHARS:]
        if current and len(current) + 1 + len(sentence) > TARGET_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces
