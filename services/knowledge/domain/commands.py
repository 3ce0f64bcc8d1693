"""Payloads of `knowledge.cmd.<name>` (msgspec validates them at the boundary)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class Signed(msgspec.Struct, forbid_unknown_fields=True):
    """A member's act: her signed statement (action `knowledge.<command>`); `body` says what."""

    community: str
    statement: dict[str, Any]


class Upload(msgspec.Struct, forbid_unknown_fields=True):
    """`add_document` / `revise_document`: the statement signs the file's sha256; the bytes
    travel beside it, base64-encoded."""

    community: str
    statement: dict[str, Any]
    content: str


class Ask(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str  # the asking member's DID, vouched for by the gateway's session check
    question: str
    mode: Literal["auto", "extractive", "generated"] = "auto"
    method: Literal["hybrid", "bm25", "dense"] = "hybrid"
    limit: int = 5


class LibraryQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str
