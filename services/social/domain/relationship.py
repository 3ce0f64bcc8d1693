"""A trust edge between two members: a RelationshipCredential each way (one aggregate per pair)."""

from __future__ import annotations

import hashlib
from typing import Any

from services.social.domain.events import RelationshipRecorded
from shared.domain import Aggregate, DomainError, applies

Document = dict[str, Any]


def relationship_id(community: str, a: str, b: str) -> str:
    pair = "\n".join(sorted((a, b)))
    return f"{community}.rel.{hashlib.sha256(pair.encode()).hexdigest()[:40]}"


class Relationship(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.credentials: dict[str, Document] = {}  # issuer -> her credential about the other
        self.parties: tuple[str, str] = ("", "")

    @property
    def mutual(self) -> bool:
        return len(self.credentials) == 2

    def record(
        self,
        issuer: str,
        subject: str,
        credential: Document,
        now: int,
        *,
        introduction: str = "",
        statement: Document | None = None,
    ) -> None:
        if issuer == subject:
            raise DomainError("invalid_relationship", "a relationship needs two members")
        if self.version and set(self.parties) != {issuer, subject}:
            raise DomainError("invalid_relationship", "this relationship is between two other members")
        if self.credentials.get(issuer) == credential:
            return
        self.trigger(
            RelationshipRecorded,
            now,
            issuer=issuer,
            subject=subject,
            credential=credential,
            introduction=introduction,
            statement=statement,
        )

    @applies(RelationshipRecorded)
    def _recorded(self, event: RelationshipRecorded) -> None:
        self.parties = (event.issuer, event.subject)
        self.credentials[event.issuer] = event.credential
