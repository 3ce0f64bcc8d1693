"""Sealing and opening commit envelopes: every kind of bad bytes is a typed error naming the cause."""

from __future__ import annotations

import msgspec
import pytest

from shared.envelope import (
    Commit,
    CorruptEnvelope,
    EnvelopeError,
    EventRecord,
    InvalidCommit,
    SignerMismatch,
    UnknownRecordType,
    open_envelope,
    seal,
)
from shared.signing import BadSignature, SigningKey, verify_detached


def make_commit(key: SigningKey, **changes: object) -> Commit:
    fields: dict[str, object] = {
        "commit_id": "c-1",
        "community": "acme",
        "subject": "membership.acme.member.m1",
        "originator_id": "acme.member.m1",
        "originator_id_kind": "str",
        "first_version": 1,
        "last_version": 2,
        "event_types": ["membership.applied.v1", "membership.admitted.v1"],
        "timestamp_ns": 1,
        "signer": key.key_id,
        "events": [
            EventRecord("membership.applied.v1", 1, b"{}"),
            EventRecord("membership.admitted.v1", 2, b"{}"),
        ],
    }
    fields.update(changes)
    return Commit(**fields)  # type: ignore[arg-type]


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate()


def test_a_sealed_commit_opens_to_the_same_commit(key: SigningKey) -> None:
    commit = make_commit(key)
    assert open_envelope(seal(commit, key)) == commit
    assert open_envelope(seal(commit, key), key.public_key) == commit
    assert open_envelope(seal(commit, key), key.key_id) == commit


def test_every_flipped_byte_is_detected(key: SigningKey) -> None:
    data = seal(make_commit(key), key)
    for position in range(len(data)):
        tampered = bytearray(data)
        tampered[position] ^= 0x01
        with pytest.raises(EnvelopeError):
            open_envelope(bytes(tampered))


def test_a_signature_by_another_key_is_refused(key: SigningKey) -> None:
    other = SigningKey.generate()
    data = seal(make_commit(key), key)
    with pytest.raises(SignerMismatch, match="expected"):
        open_envelope(data, other.public_key)
    forged = msgspec.msgpack.decode(data)
    forged["signature"] = other.sign(forged["body"])
    with pytest.raises(SignerMismatch, match="does not verify"):
        open_envelope(msgspec.msgpack.encode(forged))


def test_detached_verification_refuses_every_bad_input_even_with_a_cached_signer(key: SigningKey) -> None:
    message = b"stored bytes"
    signature = key.sign(message)
    for _ in range(2):  # the second round answers from the cache of decoded did:keys
        verify_detached(message, signature, key.key_id)
        verify_detached(message, signature, key.public_key)
        with pytest.raises(BadSignature):
            verify_detached(message + b"!", signature, key.key_id)
        with pytest.raises(BadSignature):
            verify_detached(message, signature, SigningKey.generate().key_id)
        with pytest.raises(BadSignature):
            verify_detached(message, signature[:63], key.public_key)
        with pytest.raises(BadSignature):
            verify_detached(message, signature, key.public_key[:31])
        with pytest.raises(ValueError, match="did:key"):
            verify_detached(message, signature, "did:web:example.org")


def test_sealing_with_a_key_other_than_the_named_signer_is_refused(key: SigningKey) -> None:
    with pytest.raises(SignerMismatch):
        seal(make_commit(key), SigningKey.generate())


def test_garbage_is_reported_as_corrupt_with_the_reason() -> None:
    with pytest.raises(CorruptEnvelope, match="envelope is corrupt"):
        open_envelope(b"\x00not msgpack")
    with pytest.raises(CorruptEnvelope, match="missing required field `signature`"):
        open_envelope(msgspec.msgpack.encode({"type": "cos.envelope.v1", "body": b"x"}))


def test_an_unknown_type_tag_is_named(key: SigningKey) -> None:
    body = msgspec.msgpack.encode({"type": "cos.commit.v9", "commit_id": "x"})
    data = msgspec.msgpack.encode({"type": "cos.envelope.v1", "body": body, "signature": key.sign(body)})
    with pytest.raises(UnknownRecordType, match=r"cos\.commit\.v9"):
        open_envelope(data)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"first_version": 3}, "does not match"),
        ({"events": []}, "no events"),
        (
            {
                "events": [
                    EventRecord("membership.applied.v1", 2, b"{}"),
                    EventRecord("membership.admitted.v1", 1, b"{}"),
                ],
                "first_version": 2,
                "last_version": 1,
            },
            "not increasing",
        ),
        ({"event_types": ["x"]}, "event_types"),
        ({"subject": "membership.other.member.m1"}, "differs"),
        ({"subject": "membership.acme.member"}, "is not"),
    ],
)
def test_inconsistent_commits_are_refused_before_signing(
    key: SigningKey, changes: dict[str, object], reason: str
) -> None:
    with pytest.raises(InvalidCommit, match=reason):
        seal(make_commit(key, **changes), key)
