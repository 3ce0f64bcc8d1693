"""The signed commit envelope: one command's events for one aggregate, as stored in one JetStream message.

Wire format (msgpack, documented in docs/formats/commit-envelope.md):

    Envelope  = {"type": "cos.envelope.v1", "body": <bytes>, "signature": <64 bytes>}
    body      = msgpack of a Commit ("cos.commit.v1") or a TrackingMarker ("cos.tracking.v1")

The signature is Ed25519 over `body` exactly as stored, by the key whose did:key is the body's
`signer`, so a verifier needs nothing but the message bytes and that public key.
"""

from __future__ import annotations

import itertools
import re
from typing import Literal

import msgspec

from shared.multikey import did_key_from_public_key
from shared.signing import BadSignature, SigningKey, verify_detached

__all__ = [
    "Commit",
    "CorruptEnvelope",
    "Envelope",
    "EnvelopeError",
    "EventRecord",
    "InvalidCommit",
    "SignerMismatch",
    "TrackingMarker",
    "TrackingPosition",
    "UnknownRecordType",
    "open_envelope",
    "peek_body",
    "seal",
]

_T = r"[A-Za-z0-9_\-]+"
_SUBJECT = re.compile(rf"^({_T})\.({_T})\.({_T})\.({_T})$")


class EnvelopeError(ValueError):
    """Base of every reason a stored message is not an acceptable signed commit."""


class CorruptEnvelope(EnvelopeError):
    """The bytes do not decode to the envelope schema; the message names the field."""


class UnknownRecordType(EnvelopeError):
    """The envelope or its body carries a type tag this version does not know."""


class InvalidCommit(EnvelopeError):
    """The body decodes but breaks a commit invariant (versions, subject, event types)."""


class SignerMismatch(EnvelopeError, BadSignature):
    """The signature is not by the key the body names, or does not verify."""


class EventRecord(msgspec.Struct, frozen=True, array_like=True):
    """One domain event inside a commit: its type topic, aggregate version and encoded state."""

    topic: str
    version: int
    state: bytes


class TrackingPosition(msgspec.Struct, frozen=True, array_like=True):
    """The upstream notification a process application consumed to produce this commit."""

    application_name: str
    notification_id: int


class Commit(msgspec.Struct, frozen=True, tag="cos.commit.v1", tag_field="type"):
    """What one command produced for one aggregate: 1..n events, atomically."""

    commit_id: str
    community: str
    subject: str
    originator_id: str
    originator_id_kind: Literal["uuid", "str"]
    first_version: int
    last_version: int
    event_types: list[str]
    timestamp_ns: int
    signer: str
    events: list[EventRecord]
    tracking: TrackingPosition | None = None

    def validate(self) -> Commit:
        """Raise InvalidCommit unless the commit's fields agree with each other."""
        events = self.events
        if not events:
            raise InvalidCommit(f"commit {self.commit_id} has no events")
        if len(events) == 1:
            first = events[0]
            if first.version != self.first_version or first.version != self.last_version:
                raise InvalidCommit(
                    f"commit {self.commit_id}: version range {self.first_version}.."
                    f"{self.last_version} does not match its event's version {first.version}"
                )
            if self.event_types != [first.topic]:
                raise InvalidCommit(f"commit {self.commit_id}: event_types do not match events")
        else:
            versions = [e.version for e in events]
            if any(b <= a for a, b in itertools.pairwise(versions)):
                raise InvalidCommit(f"commit {self.commit_id}: versions not increasing: {versions}")
            if versions[0] != self.first_version or versions[-1] != self.last_version:
                raise InvalidCommit(
                    f"commit {self.commit_id}: version range {self.first_version}.."
                    f"{self.last_version} does not match events {versions[0]}..{versions[-1]}"
                )
            if self.event_types != distinct_topics(events):
                raise InvalidCommit(f"commit {self.commit_id}: event_types do not match events")
        match = _SUBJECT.match(self.subject)
        if match is None:
            raise InvalidCommit(
                f"commit {self.commit_id}: subject {self.subject!r} is not "
                "<service>.<community>.<aggregate>.<id>"
            )
        if match.group(2) != self.community:
            raise InvalidCommit(
                f"commit {self.commit_id}: subject community {match.group(2)!r} "
                f"differs from {self.community!r}"
            )
        return self


class TrackingMarker(msgspec.Struct, frozen=True, tag="cos.tracking.v1", tag_field="type"):
    """A process application's position, written atomically with the commits it produced."""

    commit_id: str
    application_name: str
    notification_id: int
    timestamp_ns: int
    signer: str


class Envelope(
    msgspec.Struct, frozen=True, tag="cos.envelope.v1", tag_field="type", forbid_unknown_fields=True
):
    """The stored message: the body bytes exactly as signed, and the signature over them."""

    body: bytes
    signature: bytes


Body = Commit | TrackingMarker

_body_encoder = msgspec.msgpack.Encoder()
_envelope_decoder = msgspec.msgpack.Decoder(Envelope)
_body_decoder = msgspec.msgpack.Decoder(Body)
_KNOWN_TAGS = ("cos.envelope.v1", "cos.commit.v1", "cos.tracking.v1")


def distinct_topics(events: list[EventRecord]) -> list[str]:
    """Event topics in first-seen order, as a commit's `event_types` lists them."""
    return list(dict.fromkeys(e.topic for e in events))


def seal(body: Body, key: SigningKey) -> bytes:
    """Encode `body`, sign its exact bytes with `key`, and return the envelope bytes to store."""
    if body.signer != key.key_id:
        raise SignerMismatch(f"body names signer {body.signer}, but the key is {key.key_id}")
    if isinstance(body, Commit):
        body.validate()
    raw = _body_encoder.encode(body)
    return _body_encoder.encode(Envelope(body=raw, signature=key.sign(raw)))


def _decode_error(exc: msgspec.DecodeError | UnicodeDecodeError, what: str) -> EnvelopeError:
    text = str(exc)
    if isinstance(exc, msgspec.ValidationError) and "$.type" in text:
        return UnknownRecordType(f"{what}: unknown type tag ({text}); known: {_KNOWN_TAGS}")
    return CorruptEnvelope(f"{what} is corrupt: {text}")


def peek_body(data: bytes) -> tuple[Envelope, Body]:
    """Decode envelope and body without checking the signature (for readers that verify later)."""
    try:
        envelope = _envelope_decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise _decode_error(exc, "envelope") from exc
    if len(envelope.signature) != 64:
        raise CorruptEnvelope(f"envelope signature is {len(envelope.signature)} bytes, not 64")
    try:
        body = _body_decoder.decode(envelope.body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise _decode_error(exc, "envelope body") from exc
    if isinstance(body, Commit):
        body.validate()
    return envelope, body


def open_envelope(data: bytes, public_key: bytes | str | None = None) -> Body:
    """Decode and verify stored envelope bytes; return the commit or tracking marker inside.

    The signature is checked against `public_key` when given (raw bytes or did:key), otherwise
    against the did:key the body names; when both are present they must agree.
    """
    envelope, body = peek_body(data)
    named = did_key_from_public_key(public_key) if isinstance(public_key, bytes) else public_key
    if named is not None and named != body.signer:
        raise SignerMismatch(f"body names signer {body.signer}, expected {named}")
    key = public_key if public_key is not None else body.signer
    try:
        verify_detached(envelope.body, envelope.signature, key)
    except (BadSignature, ValueError) as exc:
        raise SignerMismatch(
            f"signature of {type(body).__name__} {body.commit_id} does not verify "
            f"under {key if isinstance(key, str) else 'the given key'}"
        ) from exc
    return body
