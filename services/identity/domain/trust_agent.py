"""A community's trust agent: its did:webvh log, the credentials it issued, and their status bits."""

from __future__ import annotations

from typing import Any

from services.identity.domain.events import (
    CommunityDidCreated,
    CommunityDidUpdated,
    CredentialIssued,
    CredentialStatusSet,
)
from shared.domain import Aggregate, DomainError, applies

PURPOSES = ("revocation", "suspension")
STATUS_LIST_SIZE = 131_072  # the Bitstring Status List minimum: herd privacy for every holder


def trust_agent_id(community: str) -> str:
    return f"{community}.trust.agent"


class CommunityTrustAgent(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.did: str | None = None
        self.log: list[dict[str, Any]] = []
        self.key_index = 0
        self.next_status_index = 0
        self.bits: dict[str, set[int]] = {purpose: set() for purpose in PURPOSES}
        self.issued: dict[int, str] = {}  # status index -> credential type

    def create_did(self, *, community: str, did: str, log_entry: dict[str, Any], now: int) -> None:
        if self.did is not None:
            raise DomainError("did_exists", f"{community} already has the DID {self.did}")
        self.trigger(CommunityDidCreated, now, community=community, did=did, key_index=0, log_entry=log_entry)

    @applies(CommunityDidCreated)
    def _did_created(self, event: CommunityDidCreated) -> None:
        self.community = event.community
        self.did = event.did
        self.key_index = event.key_index
        self.log = [event.log_entry]

    def rotate(self, *, key_index: int, log_entry: dict[str, Any], now: int) -> None:
        if key_index != self.key_index + 1:
            raise DomainError("bad_rotation", "keys rotate to the next committed key only")
        self.trigger(CommunityDidUpdated, now, key_index=key_index, log_entry=log_entry)

    @applies(CommunityDidUpdated)
    def _did_updated(self, event: CommunityDidUpdated) -> None:
        self.key_index = event.key_index
        self.log.append(event.log_entry)

    def allocate_status_index(self) -> int:
        if self.next_status_index >= STATUS_LIST_SIZE:
            raise DomainError("status_list_full", "this community's status list is full")
        return self.next_status_index

    def record_issued(
        self, *, credential_type: str, subject: str, index: int, credential: dict[str, Any], now: int
    ) -> None:
        if index != self.next_status_index:
            raise DomainError("conflict", "status index already taken; issue again")
        self.trigger(
            CredentialIssued,
            now,
            credential_type=credential_type,
            subject=subject,
            status_index=index,
            credential=credential,
        )

    @applies(CredentialIssued)
    def _issued(self, event: CredentialIssued) -> None:
        self.issued[event.status_index] = event.credential_type
        self.next_status_index = event.status_index + 1

    def set_status(self, *, purpose: str, index: int, value: bool, now: int) -> None:
        if purpose not in PURPOSES:
            raise DomainError("invalid_purpose", f"status purpose is one of {PURPOSES}")
        if index not in self.issued:
            raise DomainError("unknown_status_index", f"no credential was issued at index {index}")
        if purpose == "revocation" and not value and index in self.bits["revocation"]:
            raise DomainError("revocation_is_final", "a revoked credential cannot be reinstated")
        if (index in self.bits[purpose]) != value:
            self.trigger(CredentialStatusSet, now, purpose=purpose, index=index, value=value)

    @applies(CredentialStatusSet)
    def _status_set(self, event: CredentialStatusSet) -> None:
        if event.value:
            self.bits[event.purpose].add(event.index)
        else:
            self.bits[event.purpose].discard(event.index)
