"""Events of the KNOWLEDGE stream (tags are the stored contract: never change one, add a new one).

`statement` is the acting member's signed statement, verbatim, so a citation of a document leads
to the member's own signature over its hash, not only to the service's commit signature.
"""

from __future__ import annotations

from typing import Any

from shared.domain import Event
from shared.eventcodec import EventRegistry

Statement = dict[str, Any] | None


class LibraryConfigured(Event, frozen=True, tag="knowledge.library_configured.v1"):
    """Which roles may add documents to the community's library (admins always may)."""

    uploader_roles: tuple[str, ...]
    by: str
    statement: Statement = None


class DocumentAdded(Event, frozen=True, tag="knowledge.document_added.v1"):
    document: str
    title: str
    filename: str
    media_type: str  # what the bytes were sniffed as, not what the uploader claimed
    size: int  # bytes of the original upload
    sha256: str  # hex digest of the original upload, signed by the member in `statement`
    text: str  # the extracted text that is indexed
    read_roles: tuple[str, ...] = ()  # empty: every member in good standing
    by: str = ""
    statement: Statement = None


class DocumentRevised(Event, frozen=True, tag="knowledge.document_revised.v1"):
    document: str
    title: str
    filename: str
    media_type: str
    size: int
    sha256: str
    text: str
    read_roles: tuple[str, ...] = ()
    by: str = ""
    statement: Statement = None


class DocumentDeleted(Event, frozen=True, tag="knowledge.document_deleted.v1"):
    document: str
    reason: str = ""
    by: str = ""
    statement: Statement = None


REGISTRY = EventRegistry([LibraryConfigured, DocumentAdded, DocumentRevised, DocumentDeleted])
