"""The community's library settings: which roles may add documents (admins always may)."""

from __future__ import annotations

from typing import Any

from services.knowledge.domain.access import ADMIN, Viewer
from services.knowledge.domain.errors import Forbidden, InvalidRequest
from services.knowledge.domain.events import LibraryConfigured
from shared.domain import Aggregate, applies

DEFAULT_UPLOADER_ROLES: tuple[str, ...] = (ADMIN,)
MAX_ROLES = 32


class Library(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.uploader_roles: tuple[str, ...] = DEFAULT_UPLOADER_ROLES

    def may_upload(self, viewer: Viewer) -> bool:
        return viewer.in_good_standing and (viewer.is_admin or bool(viewer.roles & set(self.uploader_roles)))

    def configure(
        self, viewer: Viewer, uploader_roles: list[str], now: int, statement: dict[str, Any] | None
    ) -> None:
        if not (viewer.in_good_standing and viewer.is_admin):
            raise Forbidden("not_an_admin", "only an admin of this community configures its library")
        roles = tuple(sorted({r.strip() for r in uploader_roles if r.strip()}))
        if len(roles) > MAX_ROLES or any(len(r) > 64 for r in roles):
            raise InvalidRequest("invalid_request", f"at most {MAX_ROLES} roles of at most 64 characters")
        self.trigger(LibraryConfigured, now, uploader_roles=roles, by=viewer.did, statement=statement)

    @applies(LibraryConfigured)
    def _configured(self, event: LibraryConfigured) -> None:
        self.uploader_roles = tuple(event.uploader_roles) or DEFAULT_UPLOADER_ROLES
