"""Sessions: each member's sign-ins, active or ended (and why), for "where am I signed in"."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from services.identity.domain.events import SessionEnded, SessionRefreshed, SessionStarted
from shared.views import TrackedSQLiteView


class SessionsView(TrackedSQLiteView):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS sessions ("
            " session TEXT PRIMARY KEY, community TEXT NOT NULL, member TEXT NOT NULL,"
            " started_ns INTEGER NOT NULL, last_refresh_ns INTEGER NOT NULL,"
            " expires_ns INTEGER NOT NULL, ended_reason TEXT)",
            "CREATE INDEX IF NOT EXISTS sessions_by_member ON sessions (community, member)",
        ]

    def started(self, event: SessionStarted, tracking: Tracking) -> None:
        row = (event.originator_id, event.community, event.member, event.occurred_ns,
               event.occurred_ns, event.expires_ns)  # fmt: skip
        self._write([("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, NULL)", row)], tracking)

    def refreshed(self, event: SessionRefreshed, tracking: Tracking) -> None:
        sql = "UPDATE sessions SET last_refresh_ns = ?, expires_ns = ? WHERE session = ?"
        self._write([(sql, (event.occurred_ns, event.expires_ns, event.originator_id))], tracking)

    def ended(self, event: SessionEnded, tracking: Tracking) -> None:
        sql = "UPDATE sessions SET ended_reason = ? WHERE session = ?"
        self._write([(sql, (event.reason, event.originator_id))], tracking)

    def sessions_of(self, community: str, member: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT session, started_ns, last_refresh_ns, expires_ns, ended_reason"
            " FROM sessions WHERE community = ? AND member = ? ORDER BY started_ns",
            (community, member),
        )
        return [
            {
                "session": row["session"].rsplit(".", 1)[-1],
                "started_ns": row["started_ns"],
                "last_refresh_ns": row["last_refresh_ns"],
                "expires_ns": row["expires_ns"],
                "active": row["ended_reason"] is None,
                "ended_reason": row["ended_reason"],
            }
            for row in rows
        ]


class SessionsProjection(Projection[SessionsView]):
    name = "identity_sessions"
    topics = (
        "identity.session_started.v1",
        "identity.session_refreshed.v1",
        "identity.session_ended.v1",
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, domain_event: SessionStarted, tracking: Tracking) -> None:
        self.view.started(domain_event, tracking)

    @process_event.register
    def _(self, domain_event: SessionRefreshed, tracking: Tracking) -> None:
        self.view.refreshed(domain_event, tracking)

    @process_event.register
    def _(self, domain_event: SessionEnded, tracking: Tracking) -> None:
        self.view.ended(domain_event, tracking)
