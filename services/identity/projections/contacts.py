"""Contacts: who invited whom, pending until the invite is accepted, then connected for both."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from services.identity.domain.events import InviteAccepted, InviteCreated, InviteRevoked
from shared.views import TrackedSQLiteView


class ContactsView(TrackedSQLiteView):
    """One row per (member, invite): the inviter's row from creation, the invitee's on accept.
    Each change is written in the same transaction as the tracking position, so replaying the
    stream from any point never applies an event twice."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS contacts ("
            " community TEXT NOT NULL, owner TEXT NOT NULL, invite TEXT NOT NULL,"
            " contact_did TEXT, contact_name TEXT NOT NULL, status TEXT NOT NULL,"
            " PRIMARY KEY (community, owner, invite))",
        ]

    def invite_created(self, event: InviteCreated, tracking: Tracking) -> None:
        row = (event.community, event.inviter, event.originator_id, event.recipient_name)
        self._write([("INSERT OR REPLACE INTO contacts VALUES (?, ?, ?, NULL, ?, 'pending')", row)], tracking)

    def invite_accepted(self, event: InviteAccepted, tracking: Tracking) -> None:
        invite = event.originator_id
        found = self._rows("SELECT community, owner FROM contacts WHERE invite = ?", (invite,))
        statements = []
        if found:
            community, inviter = found[0]["community"], found[0]["owner"]
            statements = [
                (
                    "UPDATE contacts SET contact_did = ?, status = 'connected' WHERE invite = ?",
                    (event.invitee, invite),
                ),
                (
                    "INSERT OR REPLACE INTO contacts VALUES (?, ?, ?, ?, ?, 'connected')",
                    (community, event.invitee, invite, inviter, inviter),
                ),
            ]
        self._write(statements, tracking)

    def invite_revoked(self, event: InviteRevoked, tracking: Tracking) -> None:
        self._write([("DELETE FROM contacts WHERE invite = ?", (event.originator_id,))], tracking)

    def contacts_of(self, community: str, member: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT invite, contact_did, contact_name, status FROM contacts"
            " WHERE community = ? AND owner = ? ORDER BY invite",
            (community, member),
        )
        return [
            {
                "invite": row["invite"].rsplit(".", 1)[-1],
                "did": row["contact_did"],
                "name": row["contact_name"],
                "status": row["status"],
            }
            for row in rows
        ]


class ContactsProjection(Projection[ContactsView]):
    name = "identity_contacts"
    topics = (
        "identity.invite_created.v1",
        "identity.invite_accepted.v1",
        "identity.invite_revoked.v1",
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, domain_event: InviteCreated, tracking: Tracking) -> None:
        self.view.invite_created(domain_event, tracking)

    @process_event.register
    def _(self, domain_event: InviteAccepted, tracking: Tracking) -> None:
        self.view.invite_accepted(domain_event, tracking)

    @process_event.register
    def _(self, domain_event: InviteRevoked, tracking: Tracking) -> None:
        self.view.invite_revoked(domain_event, tracking)
