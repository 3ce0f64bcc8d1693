"""A document in the community's library: added, revised, deleted — by its author or an admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.knowledge.domain.access import Viewer
from services.knowledge.domain.errors import Forbidden, InvalidRequest, NotFound
from services.knowledge.domain.events import DocumentAdded, DocumentDeleted, DocumentRevised
from shared.domain import Aggregate, applies

MAX_TITLE = 300


@dataclass(frozen=True)
class Content:
    """What one upload contributes, after sniffing and extraction (see adapters.extraction)."""

    title: str
    filename: str
    media_type: str
    size: int
    sha256: str
    text: str
    read_roles: tuple[str, ...]


class Document(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.author = ""
        self.title = ""
        self.sha256 = ""
        self.deleted = False

    def add(self, viewer: Viewer, content: Content, now: int, statement: dict[str, Any] | None) -> None:
        if self.version:
            raise InvalidRequest("document_exists", f"document {self.id} already exists; revise it instead")
        _check(content)
        self.trigger(
            DocumentAdded, now, document=self.key, by=viewer.did, statement=statement, **_fields(content)
        )

    def revise(self, viewer: Viewer, content: Content, now: int, statement: dict[str, Any] | None) -> None:
        self._may_change(viewer)
        _check(content)
        if content.sha256 == self.sha256 and content.title == self.title:
            raise InvalidRequest(
                "unchanged", "this revision has the same content and title as the current one"
            )
        self.trigger(
            DocumentRevised, now, document=self.key, by=viewer.did, statement=statement, **_fields(content)
        )

    def delete(self, viewer: Viewer, reason: str, now: int, statement: dict[str, Any] | None) -> None:
        self._may_change(viewer)
        self.trigger(
            DocumentDeleted, now, document=self.key, reason=reason[:500], by=viewer.did, statement=statement
        )

    @property
    def key(self) -> str:
        return self.id.rsplit(".", 1)[-1]

    def _may_change(self, viewer: Viewer) -> None:
        if not self.version or self.deleted:
            raise NotFound("unknown_document", f"document {self.key} does not exist")
        if viewer.did != self.author and not viewer.is_admin:
            raise Forbidden("not_the_author", "only the document's author or an admin may change it")

    @applies(DocumentAdded)
    def _added(self, event: DocumentAdded) -> None:
        self.author, self.title, self.sha256 = event.by, event.title, event.sha256

    @applies(DocumentRevised)
    def _revised(self, event: DocumentRevised) -> None:
        self.title, self.sha256 = event.title, event.sha256

    @applies(DocumentDeleted)
    def _deleted(self, event: DocumentDeleted) -> None:
        self.deleted = True


def _check(content: Content) -> None:
    if not content.title.strip() or len(content.title) > MAX_TITLE:
        raise InvalidRequest("invalid_request", f"a title of 1-{MAX_TITLE} characters is required")
    if not content.text.strip():
        raise InvalidRequest("empty_document", "the upload holds no text to index")


def _fields(content: Content) -> dict[str, Any]:
    return {
        "title": content.title.strip(),
        "filename": content.filename,
        "media_type": content.media_type,
        "size": content.size,
        "sha256": content.sha256,
        "text": content.text,
        "read_roles": content.read_roles,
    }
