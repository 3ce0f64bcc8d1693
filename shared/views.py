"""Base for read models: a SQLite view that records its tracking position with every change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

__all__ = ["TrackedSQLiteView"]

Statement = tuple[str, tuple[Any, ...]]


class TrackedSQLiteView(SQLiteTrackingRecorder):
    """Subclasses add their tables in `construct_create_table_statements` and write through
    `_write`: the statements and the tracking record commit together, so replaying the stream
    from any position applies each event exactly once."""

    def _write(self, statements: Iterable[Statement], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            for sql, params in statements:
                c.execute(sql, params)
            self._insert_tracking(c, tracking)

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            return list(c.fetchall())
