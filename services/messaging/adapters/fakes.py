"""Test doubles that ship with the service: a community signer with a did:key, nonces in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.messaging.adapters.signer import SignatureUnavailable
from shared.signing import SigningKey
from shared.statements import StatementFailure, StatementRejected, VerifiedStatement
from shared.trust.credentials import sign_credential
from shared.trust.member_keys import MemberKeys


@dataclass
class KeyedSigner:
    """Signs as the community with a did:key per community (standing in for its did:webvh)."""

    available: bool = True
    keys: dict[str, MemberKeys] = field(default_factory=dict)

    def _keys(self, community: str) -> MemberKeys:
        if not self.available:
            raise SignatureUnavailable("community_signature_unavailable", "the trust agent is not answering")
        return self.keys.setdefault(community, MemberKeys(SigningKey.generate()))

    async def community_did(self, community: str) -> str:
        return self._keys(community).did

    async def sign(self, community: str, credential: dict[str, Any]) -> dict[str, Any]:
        keys = self._keys(community)
        return sign_credential(
            credential,
            signing_key=keys.signing_key,
            verification_method=keys.verification_method,
            created=datetime.now(tz=UTC).replace(microsecond=0),
        )


@dataclass
class MemoryNonces:
    seen: set[tuple[str, str, str]] = field(default_factory=set)

    async def claim(self, statement: VerifiedStatement) -> None:
        key = (statement.community, statement.actor, statement.nonce)
        if key in self.seen:
            raise StatementRejected(StatementFailure.REPLAYED, "this statement (nonce) was already used")
        self.seen.add(key)


@dataclass
class RecordedNotices:
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        self.sent.append((community, notice))
