"""Member-signed statements: what a member does, signed on her device, carried verbatim in events.

A statement is a JSON object secured with an eddsa-jcs-2022 Data Integrity proof by the member's
did:key. It names the action, the community, a nonce and a short validity window, so the service
can refuse a forged, replayed, stale or misdirected statement before anything is recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js.api import KeyValueConfig, StorageType
from nats.js.kv import KeyValue

from shared.trust.data_integrity import add_proof, proof_options, verify_proof
from shared.trust.datetimes import format_datetime, parse_datetime
from shared.trust.errors import TrustError
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import DidResolver, default_resolver

__all__ = [
    "STATEMENT_TYPE",
    "NonceRegistry",
    "StatementFailure",
    "StatementRejected",
    "VerifiedStatement",
    "sign_statement",
    "verify_statement",
]

STATEMENT_TYPE = "CommunityStatement"
MAX_WINDOW = timedelta(minutes=10)
CLOCK_SKEW = timedelta(seconds=30)


class StatementFailure(StrEnum):
    MALFORMED = "malformed_statement"
    FORGED = "forged_statement"
    WRONG_ACTION = "wrong_action"
    WRONG_COMMUNITY = "wrong_community"
    NOT_YET_VALID = "statement_not_yet_valid"
    EXPIRED = "statement_expired"
    WINDOW_TOO_LONG = "statement_window_too_long"
    REPLAYED = "statement_replayed"


class StatementRejected(ValueError):
    """A member statement that must not be acted on; `code` names why."""

    def __init__(self, code: StatementFailure, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VerifiedStatement:
    actor: str  # the member's did:key
    action: str
    community: str
    nonce: str
    body: dict[str, Any]
    document: dict[str, Any]  # the statement exactly as signed, proof included


def sign_statement(
    keys: MemberKeys,
    *,
    action: str,
    community: str,
    body: dict[str, Any],
    nonce: str,
    now: datetime,
    valid_for: timedelta = timedelta(minutes=2),
) -> dict[str, Any]:
    """The statement a member's device signs (also what the web app builds with WebCrypto)."""
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": STATEMENT_TYPE,
        "action": action,
        "community": community,
        "actor": keys.did,
        "nonce": nonce,
        "validFrom": format_datetime(now),
        "validUntil": format_datetime(now + valid_for),
        "body": body,
    }
    options = proof_options(keys.verification_method, now, proof_purpose="authentication")
    return add_proof(document, options, keys.signing_key)


def verify_statement(
    document: Any,
    *,
    action: str,
    community: str,
    now: datetime,
    resolver: DidResolver | None = None,
) -> VerifiedStatement:
    """Check signature, action, community and window (not the nonce: see NonceRegistry)."""
    if not isinstance(document, dict) or document.get("type") != STATEMENT_TYPE:
        raise StatementRejected(StatementFailure.MALFORMED, f"not a {STATEMENT_TYPE}")
    actor = document.get("actor")
    body = document.get("body")
    nonce = document.get("nonce")
    if not isinstance(actor, str) or not isinstance(body, dict):
        raise StatementRejected(StatementFailure.MALFORMED, "actor and body are required")
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 128:
        raise StatementRejected(StatementFailure.MALFORMED, "nonce must be 16-128 characters")
    try:
        verify_proof(
            document,
            resolver or default_resolver(),
            proof_purpose="authentication",
            expected_controller=actor,
        )
    except TrustError as exc:
        raise StatementRejected(StatementFailure.FORGED, f"{exc} [{exc.reason}]") from exc
    if document.get("action") != action:
        raise StatementRejected(
            StatementFailure.WRONG_ACTION,
            f"signed for {document.get('action')!r}, presented for {action!r}",
        )
    if document.get("community") != community:
        raise StatementRejected(
            StatementFailure.WRONG_COMMUNITY,
            f"signed for community {document.get('community')!r}, presented to {community!r}",
        )
    try:
        valid_from = parse_datetime(document.get("validFrom"))
        valid_until = parse_datetime(document.get("validUntil"))
    except (TrustError, TypeError, ValueError) as exc:
        raise StatementRejected(StatementFailure.MALFORMED, f"validity window: {exc}") from exc
    if valid_until - valid_from > MAX_WINDOW:
        raise StatementRejected(
            StatementFailure.WINDOW_TOO_LONG, f"a statement may be valid for at most {MAX_WINDOW}"
        )
    if now + CLOCK_SKEW < valid_from:
        raise StatementRejected(StatementFailure.NOT_YET_VALID, f"valid from {valid_from}")
    if now - CLOCK_SKEW > valid_until:
        raise StatementRejected(StatementFailure.EXPIRED, f"expired at {valid_until}")
    return VerifiedStatement(actor, action, community, nonce, body, document)


class NonceRegistry:
    """Remembers every accepted nonce for longer than any statement lives (a JetStream KV bucket
    whose entries expire), so a replay is refused by every service replica, even after restarts."""

    BUCKET = "COS_NONCES"

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    @classmethod
    async def open(cls, nc: NATS, replicas: int = 1) -> NonceRegistry:
        js = nc.jetstream()
        ttl = (MAX_WINDOW + 2 * CLOCK_SKEW).total_seconds()
        try:
            kv = await js.key_value(cls.BUCKET)
        except nats.js.errors.BucketNotFoundError:
            kv = await js.create_key_value(
                KeyValueConfig(bucket=cls.BUCKET, ttl=ttl, storage=StorageType.FILE, replicas=replicas)
            )
        return cls(kv)

    async def claim(self, statement: VerifiedStatement) -> None:
        """Record the statement's nonce, or raise StatementRejected(REPLAYED) if it was used."""
        key = hashlib.sha256(
            f"{statement.community}\n{statement.actor}\n{statement.nonce}".encode()
        ).hexdigest()
        try:
            await self._kv.create(key, statement.action.encode())
        except nats.js.errors.KeyWrongLastSequenceError as exc:
            raise StatementRejected(
                StatementFailure.REPLAYED, "this statement (nonce) was already used"
            ) from exc


def statement_time(document: dict[str, Any]) -> datetime:
    """When the member says she signed (for events that keep the member's own time)."""
    return parse_datetime(document["validFrom"])
