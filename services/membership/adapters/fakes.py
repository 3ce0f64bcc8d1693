"""Test doubles that ship with the service: an in-memory identity and nonce registry.

`FakeCredentials` issues real, signed DTG credentials (so a member can acknowledge them) from a
per-community did:key standing in for the community's did:webvh, and keeps the status bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.membership.adapters.credentials import (
    CredentialsUnavailable,
    CredentialType,
    IssuedCredential,
    IssuedStatus,
    StatusPurpose,
)
from shared.signing import SigningKey
from shared.statements import StatementFailure, StatementRejected, VerifiedStatement
from shared.trust.credentials import sign_credential
from shared.trust.datetimes import parse_datetime
from shared.trust.dtg_membership import membership_credential
from shared.trust.dtg_roles import authority_credential
from shared.trust.member_keys import MemberKeys
from shared.trust.status_list import StatusPurpose as Purpose
from shared.trust.status_list import status_list_entry


@dataclass
class FakeCredentials:
    available: bool = True
    keys: dict[str, MemberKeys] = field(default_factory=dict)
    issued: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    status: dict[tuple[str, int, str], bool] = field(default_factory=dict)
    next_index: int = 0

    def _check(self) -> None:
        if not self.available:
            raise CredentialsUnavailable("credentials_unavailable", "the identity service is not answering")

    async def community_did(self, community: str) -> str:
        self._check()
        return self.keys.setdefault(community, MemberKeys(SigningKey.generate())).did

    async def issue(
        self, community: str, type_: CredentialType, subject: str, claims: dict[str, Any], valid_until: str
    ) -> IssuedCredential:
        self._check()
        keys = self.keys.setdefault(community, MemberKeys(SigningKey.generate()))
        index, self.next_index = self.next_index, self.next_index + 1
        list_url = f"https://{community}.example/status/1"
        entry = status_list_entry(list_url=list_url, index=index, purpose=Purpose.REVOCATION)
        now = datetime.now(tz=UTC).replace(microsecond=0)
        until = parse_datetime(valid_until)
        if type_ == "MembershipCredential":
            unsigned = membership_credential(
                community=keys.did, member=subject, valid_from=now, valid_until=until, status=[entry]
            )
        else:
            unsigned = authority_credential(
                community=keys.did,
                member=subject,
                roles=claims["roles"],
                valid_from=now,
                valid_until=until,
                status=[entry],
            )
        signed = sign_credential(
            unsigned, signing_key=keys.signing_key, verification_method=keys.verification_method, created=now
        )
        self.issued.append((community, type_, subject, claims))
        return IssuedCredential(signed, IssuedStatus("revocation", index, list_url))

    async def set_status(self, community: str, index: int, purpose: StatusPurpose, value: bool) -> None:
        self._check()
        self.status[(community, index, purpose)] = value


@dataclass
class MemoryNonces:
    seen: set[tuple[str, str, str]] = field(default_factory=set)

    async def claim(self, statement: VerifiedStatement) -> None:
        key = (statement.community, statement.actor, statement.nonce)
        if key in self.seen:
            raise StatementRejected(StatementFailure.REPLAYED, "this statement (nonce) was already used")
        self.seen.add(key)
