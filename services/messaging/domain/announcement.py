"""An announcement: drafted or scheduled by an admin, sent once to a committed list of recipients;
in the community's public archive while an admin says so (only one to every member)."""

from __future__ import annotations

from typing import Any

from services.messaging.domain.errors import Invalid
from services.messaging.domain.events import (
    AnnouncementCancelled,
    AnnouncementDrafted,
    AnnouncementEmailed,
    AnnouncementPublicSet,
    AnnouncementSent,
    Audience,
    Statement,
)
from shared.domain import Aggregate, DomainError, applies


def announcement_id(community: str, announcement: str) -> str:
    return f"{community}.announcement.{announcement}"


class Announcement(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.announcement = aggregate_id.rsplit(".", 1)[-1]
        self.state = "new"  # draft | scheduled | sent | cancelled
        self.title = ""
        self.body = ""
        self.audience = Audience()
        self.send_at_ns = 0
        self.by = ""
        self.statement: Statement = None
        self.recipients: tuple[str, ...] = ()
        self.document: dict[str, Any] = {}
        self.sent_ns = 0
        self.email_results: dict[str, str] = {}
        self.public = False  # in the public archive (shown there once sent)

    def draft(
        self,
        *,
        title: str,
        body: str,
        audience: Audience,
        send_at_ns: int,
        by: str,
        statement: Statement,
        now: int,
    ) -> None:
        if self.state != "new":
            raise DomainError("announcement_exists", f"announcement {self.announcement} already exists")
        self.trigger(
            AnnouncementDrafted,
            now,
            announcement=self.announcement,
            title=title,
            body=body,
            audience=audience,
            send_at_ns=send_at_ns,
            by=by,
            statement=statement,
        )

    def require_unsent(self) -> None:
        if self.state == "sent":
            raise DomainError("already_sent", "this announcement was sent; send a new one to correct it")
        if self.state == "cancelled":
            raise DomainError("announcement_cancelled", "this announcement was cancelled")

    def send(
        self,
        *,
        recipients: tuple[str, ...],
        document: dict[str, Any],
        by: str,
        statement: Statement,
        now: int,
    ) -> None:
        self.require_unsent()
        self.trigger(
            AnnouncementSent,
            now,
            announcement=self.announcement,
            title=self.title,
            body=self.body,
            audience=self.audience,
            by=by,
            recipients=recipients,
            document=document,
            statement=statement,
        )

    def cancel(self, *, by: str, statement: Statement, now: int) -> None:
        self.require_unsent()
        self.trigger(AnnouncementCancelled, now, announcement=self.announcement, by=by, statement=statement)

    def record_email(self, results: dict[str, str], now: int) -> None:
        if self.state != "sent":
            raise Invalid("not_sent", "only a sent announcement is mailed")
        if results:
            self.trigger(AnnouncementEmailed, now, announcement=self.announcement, results=results)

    def set_public(self, *, public: bool, by: str, statement: Statement, now: int) -> bool:
        """Into the public archive or out of it; False when it already is as asked (nothing recorded).
        A cancelled announcement is never published; one for a segment may not be public."""
        if self.state == "cancelled":
            raise DomainError(
                "announcement_cancelled", "this announcement was cancelled: it is never published"
            )
        if public:
            require_everyone(self.audience)
        if public == self.public:
            return False
        self.trigger(
            AnnouncementPublicSet,
            now,
            announcement=self.announcement,
            public=public,
            by=by,
            statement=statement,
        )
        return True

    def due(self, now: int) -> bool:
        return self.state == "scheduled" and self.send_at_ns <= now

    @applies(AnnouncementDrafted)
    def _drafted(self, event: AnnouncementDrafted) -> None:
        self.state = "scheduled" if event.send_at_ns else "draft"
        self.title, self.body, self.audience = event.title, event.body, event.audience
        self.send_at_ns, self.by, self.statement = event.send_at_ns, event.by, event.statement

    @applies(AnnouncementSent)
    def _sent(self, event: AnnouncementSent) -> None:
        self.state = "sent"
        self.recipients, self.document, self.sent_ns = event.recipients, event.document, event.occurred_ns

    @applies(AnnouncementCancelled)
    def _cancelled(self, event: AnnouncementCancelled) -> None:
        self.state = "cancelled"

    @applies(AnnouncementEmailed)
    def _emailed(self, event: AnnouncementEmailed) -> None:
        self.email_results.update(event.results)

    @applies(AnnouncementPublicSet)
    def _public_set(self, event: AnnouncementPublicSet) -> None:
        self.public = event.public


def for_everyone(audience: Audience) -> bool:
    return not (audience.roles or audience.types or audience.tags)


def require_everyone(audience: Audience) -> None:
    """Only an announcement to every member may be public: anything restricted to a segment (by
    role, membership type or tag) is the members' business and stays among them."""
    if not for_everyone(audience):
        raise Invalid(
            "public_needs_everyone",
            "only an announcement to every member may be in the public archive; this one is for a segment",
        )


def in_audience(
    audience: Audience, roles: tuple[str, ...], membership_type: str, tags: tuple[str, ...]
) -> bool:
    """A member is in the audience when she matches every list given (any one value of each)."""
    return (
        (not audience.roles or bool(set(audience.roles) & set(roles)))
        and (not audience.types or membership_type in audience.types)
        and (not audience.tags or bool(set(audience.tags) & set(tags)))
    )


def announcement_credential(
    *,
    community: str,
    issuer: str,
    announcement: str,
    title: str,
    body: str,
    audience: Audience | None,
    author: str,
    issued: str,
) -> dict[str, Any]:
    """The unsigned AnnouncementCredential: the exact text, its audience and author, from the community."""
    subject: dict[str, Any] = {
        "id": f"urn:cos:{community}:announcement:{announcement}",
        "community": community,
        "title": title,
        "body": body,
        "mediaType": "text/markdown",
        "author": author,
    }
    if audience is None:
        subject["audience"] = {"welcome": True}  # to each member as she is admitted
    else:
        subject["audience"] = {
            "roles": list(audience.roles),
            "types": list(audience.types),
            "tags": list(audience.tags),
        }
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "AnnouncementCredential"],
        "issuer": issuer,
        "validFrom": issued,
        "credentialSubject": subject,
    }
