"""Member-signed statements: what a member does, signed on her device, carried verbatim in events.

A statement is a JSON object secured with an eddsa-jcs-2022 Data Integrity proof by the member's
did:key. It names the action, the community, a nonce and a short validity window, so the service
can refuse a forged, replayed, stale or misdirected statement before anything is recorded.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import nacl.bindings
import nacl.exceptions
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js.api import KeyValueConfig, StorageType
from nats.js.kv import KeyValue

from shared.trust.canonical_json import canonicalize
from shared.trust.data_integrity import CRYPTOSUITE, PROOF_TYPE, add_proof, proof_options, verify_proof
from shared.trust.datetimes import format_datetime, parse_datetime
from shared.trust.errors import DidError, TrustError
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import (
    DidResolver,
    VerificationMethod,
    default_resolver,
    dereference_verification_method,
)

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
    if resolver is not None or not _proof_verifies_fast(document, actor):
        # The reference verifier decides whatever the fast path does not accept outright, so a
        # refusal always carries the reference's reason, and a custom resolver is always honoured.
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


# The fast path. `verify_proof` is the reference (eddsa-jcs-2022 as the specification writes it);
# what it spends per statement is resolving the did:key (base58, a curve-point check, an X25519
# conversion), decoding the proofValue with bignum base58, and RFC 8785 in pure Python. A statement
# is a small ASCII document of strings, safe integers, booleans and nulls, whose RFC 8785 bytes are
# exactly the sorted compact `json.dumps` (same member order for ASCII names, same escapes), and a
# member signs many statements with one key. `_proof_verifies_fast` answers True only when every
# check `verify_proof` makes for a statement holds, so it never accepts what the reference refuses;
# anything else (False) goes to the reference, which then accepts or names the reason.

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_DIGITS = {char: digit for digit, char in enumerate(_BASE58)}
_BASE58_POWERS = [58**width for width in range(10)]


def _base58_decode(text: str) -> bytes:
    """Bitcoin-alphabet base58 as `base58.b58decode` reads it; KeyError for any other character.

    Nine digits at a time (58^9 < 2^53), so the big number is multiplied a ninth as often.
    """
    number = 0
    for start in range(0, len(text), 9):
        chunk = text[start : start + 9]
        small = 0
        for char in chunk:
            small = small * 58 + _BASE58_DIGITS[char]
        number = number * _BASE58_POWERS[len(chunk)] + small
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + (number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b"")


def _plain_json(value: Any) -> bool:
    """JSON made only of str-keyed objects, arrays, strings, safe integers, booleans and null."""
    if isinstance(value, (str, bool)) or value is None:
        return True
    if isinstance(value, dict):
        return all(isinstance(key, str) and key.isascii() for key in value) and all(
            _plain_json(item) for item in value.values()
        )
    if isinstance(value, list):
        return all(_plain_json(item) for item in value)
    return type(value) is int and -(2**53) < value < 2**53


def _jcs(value: dict[str, Any]) -> bytes:
    """RFC 8785 bytes: `json.dumps` when that is provably the same text, the full JCS otherwise.

    With ASCII member names the two sort members alike (RFC 8785 orders by UTF-16 code units,
    Python by code points: they differ only beyond ASCII), escape alike (the two-character escapes,
    lowercase \\u00xx for other controls, nothing else) and write other characters as UTF-8; a lone
    surrogate fails to encode here, as it fails in RFC 8785.
    """
    if _plain_json(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return canonicalize(value)


@functools.lru_cache(maxsize=8192)
def _authentication_method(method_id: str) -> VerificationMethod | None:
    """The did:key verification method `method_id` names for authentication (None if it names none).

    Resolving a did:key is a pure function of its identifier, so the answer is kept per key.
    """
    try:
        return dereference_verification_method(default_resolver(), method_id, "authentication")
    except DidError:
        return None


def _proof_verifies_fast(document: dict[str, Any], actor: str) -> bool:
    """True only if `verify_proof(document, default_resolver(), proof_purpose="authentication",
    expected_controller=actor)` would accept the document; False means "ask the reference"."""
    try:
        proof = document.get("proof")
        if not isinstance(proof, dict) or proof.get("type") != PROOF_TYPE:
            return False
        if proof.get("cryptosuite") != CRYPTOSUITE or proof.get("proofPurpose") != "authentication":
            return False
        value = proof.get("proofValue")
        method_id = proof.get("verificationMethod")
        if not isinstance(value, str) or not value.startswith("z") or not isinstance(method_id, str):
            return False
        signature = _base58_decode(value[1:])
        if len(signature) != 64:
            return False
        options = {name: item for name, item in proof.items() if name != "proofValue"}
        unsecured = {name: item for name, item in document.items() if name != "proof"}
        if "@context" in options and options["@context"] != unsecured.get("@context"):
            return False
        if "created" in options:
            parse_datetime(options["created"], require_timezone=False)
        method = _authentication_method(method_id)
        if method is None or method.controller != actor or len(method.public_key) != 32:
            return False
        data = hashlib.sha256(_jcs(options)).digest() + hashlib.sha256(_jcs(unsecured)).digest()
        nacl.bindings.crypto_sign_open(signature + data, method.public_key)
    except (KeyError, ValueError, TypeError, RecursionError, nacl.exceptions.CryptoError):
        # A character outside base58, a bad date, JSON that JCS refuses, a signature that fails:
        # the reference verifier will say which.
        return False
    return True


class Nonces(Protocol):
    """Refuses a statement whose nonce was seen before (`NonceRegistry`, or a test double)."""

    async def claim(self, statement: VerifiedStatement) -> None: ...


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
