"""DID documents of the communities: the current document and version of each community DID."""

from __future__ import annotations

import json
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from services.identity.domain.events import CommunityDidCreated, CommunityDidUpdated
from shared.views import TrackedSQLiteView


class DidDocumentsView(TrackedSQLiteView):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS did_documents ("
            " agent TEXT PRIMARY KEY, community TEXT NOT NULL, did TEXT NOT NULL UNIQUE,"
            " version_id TEXT NOT NULL, version_time TEXT NOT NULL, document TEXT NOT NULL)",
        ]

    def created(self, event: CommunityDidCreated, tracking: Tracking) -> None:
        entry = event.log_entry
        row = (event.originator_id, event.community, event.did, entry["versionId"],
               entry["versionTime"], json.dumps(entry["state"], sort_keys=True))  # fmt: skip
        self._write([("INSERT OR REPLACE INTO did_documents VALUES (?, ?, ?, ?, ?, ?)", row)], tracking)

    def updated(self, event: CommunityDidUpdated, tracking: Tracking) -> None:
        entry = event.log_entry
        sql = "UPDATE did_documents SET version_id = ?, version_time = ?, document = ? WHERE agent = ?"
        document = json.dumps(entry["state"], sort_keys=True)
        params = (entry["versionId"], entry["versionTime"], document, event.originator_id)
        self._write([(sql, params)], tracking)

    def document(self, did: str) -> dict[str, Any] | None:
        rows = self._rows(
            "SELECT community, version_id, version_time, document FROM did_documents WHERE did = ?",
            (did,),
        )
        if not rows:
            return None
        row = rows[0]
        return {
            "community": row["community"],
            "versionId": row["version_id"],
            "versionTime": row["version_time"],
            "document": json.loads(row["document"]),
        }


class DidDocumentsProjection(Projection[DidDocumentsView]):
    name = "identity_did_documents"
    topics = ("identity.community_did_created.v1", "identity.community_did_updated.v1")

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, domain_event: CommunityDidCreated, tracking: Tracking) -> None:
        self.view.created(domain_event, tracking)

    @process_event.register
    def _(self, domain_event: CommunityDidUpdated, tracking: Tracking) -> None:
        self.view.updated(domain_event, tracking)
