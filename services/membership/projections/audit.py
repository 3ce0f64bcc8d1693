"""The audit trail of each member: every change, who made it, and the signed statement behind it."""

from __future__ import annotations

from typing import Any

from services.membership.domain.events import CredentialIssued
from shared.domain import Event


class AuditView:
    def __init__(self) -> None:
        self.position = 0
        self._trails: dict[str, list[dict[str, Any]]] = {}

    def apply(self, event: Event) -> None:
        if event.originator_id.split(".", 2)[1] != "member":
            return
        statement = getattr(event, "statement", None)
        by = getattr(event, "by", "")
        if not by and statement is not None:
            by = statement.get("actor", "")
        entry: dict[str, Any] = {
            "version": event.originator_version,
            "at_ns": event.occurred_ns,
            "change": type(event).__struct_config__.tag,
            "by": by or "membership-service",
            "statement": statement,
        }
        if isinstance(event, CredentialIssued):
            entry["credential"] = {"kind": event.kind, "status_index": event.status_index}
        self._trails.setdefault(event.originator_id, []).append(entry)

    def trail(self, member_id: str) -> list[dict[str, Any]]:
        return list(self._trails.get(member_id, []))
