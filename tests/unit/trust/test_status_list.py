"""W3C Bitstring Status List: the spec's examples, the bit layout, and status checks in verification."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.trust.credentials import VC_V2_CONTEXT, issue_credential, verify_credential
from shared.trust.errors import StatusError, StatusFailure
from shared.trust.fetching import mapping_fetcher
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import default_resolver
from shared.trust.status_list import (
    MIN_STATUS_LIST_BITS,
    StatusBitstring,
    StatusPurpose,
    credential_status_entries,
    parse_status_entry,
    status_list_credential,
    status_list_entry,
)

from .vectors import VECTORS, ZERO_PHRASE

SPEC = VECTORS / "bitstring-status-list"
LIST_URL = "https://river.example/status/1"
SUSPENSIONS_URL = "https://river.example/status/2"


def _spec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPEC / name).read_text(encoding="utf-8"))
    return loaded


def test_the_spec_example_list_is_131072_clear_bits() -> None:
    example = _spec("status-list-credential.json")

    bits = StatusBitstring.decode(example["credentialSubject"]["encodedList"])

    assert bits.size == MIN_STATUS_LIST_BITS
    assert bits.data == bytes(MIN_STATUS_LIST_BITS // 8)


def test_an_empty_list_encodes_exactly_as_the_spec_example() -> None:
    example = _spec("status-list-credential.json")

    assert StatusBitstring().encode() == example["credentialSubject"]["encodedList"]


def test_the_spec_example_credentials_status_entries_read_as_written() -> None:
    [revocation] = credential_status_entries(_spec("revocable-credential.json"))
    both = credential_status_entries(_spec("revocation-and-suspension-credential.json"))

    assert (revocation.purpose, revocation.index, revocation.list_url) == (
        "revocation",
        94567,
        "https://example.com/credentials/status/3",
    )
    assert [(entry.purpose, entry.index) for entry in both] == [("revocation", 94567), ("suspension", 23452)]
    assert (
        StatusBitstring.decode(
            _spec("status-list-credential.json")["credentialSubject"]["encodedList"]
        ).status(revocation.index)
        == 0
    )


def test_index_zero_is_the_left_most_bit() -> None:
    bits = StatusBitstring().with_status(0).with_status(7).with_status(MIN_STATUS_LIST_BITS - 1)

    assert bits.data[0] == 0b1000_0001
    assert bits.data[-1] == 0b0000_0001
    assert [bits.status(i) for i in (0, 1, 7, 8)] == [1, 0, 1, 0]
    assert StatusBitstring.decode(bits.encode()) == bits
    assert bits.with_status(0, 0).status(0) == 0


def test_multi_bit_statuses_are_read_and_written_in_place() -> None:
    bits = StatusBitstring().with_status(3, value=0b10, status_size=2)

    assert bits.status(3, status_size=2) == 2
    assert bits.status(6) == 1
    assert bits.status(7) == 0


@pytest.mark.parametrize(
    ("encoded", "why"),
    [
        ("zH4sI", "multibase base64url"),
        ("uH4sIAA=", "unpadded"),
        ("u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="), "GZIP"),
        (
            "u" + base64.urlsafe_b64encode(gzip.compress(bytes(17 * 1024 * 1024))).decode().rstrip("="),
            "too large",
        ),
    ],
    ids=["not-base64url", "padded", "not-gzip", "decompression-bomb"],
)
def test_a_malformed_encoded_list_is_refused(encoded: str, why: str) -> None:
    with pytest.raises(StatusError) as caught:
        StatusBitstring.decode(encoded)

    assert caught.value.reason is StatusFailure.MALFORMED_LIST
    assert why in str(caught.value)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"type": "StatusList2021Entry"}, "BitstringStatusListEntry"),
        ({"statusListIndex": 94567}, "statusListIndex"),
        ({"statusListIndex": "-1"}, "statusListIndex"),
        ({"statusPurpose": ""}, "statusPurpose"),
        ({"statusListCredential": None}, "statusListCredential"),
        ({"id": "https://example.com/credentials/status/3"}, "id"),
        ({"statusSize": 0}, "statusSize"),
        ({"statusSize": 2}, "statusMessage"),
        ({"statusMessage": [{"status": "0x0", "message": "ok"}]}, "statusMessage"),
    ],
)
def test_a_malformed_status_entry_is_refused(change: dict[str, Any], why: str) -> None:
    entry = _spec("revocable-credential.json")["credentialStatus"] | change

    with pytest.raises(StatusError) as caught:
        parse_status_entry(entry)

    assert caught.value.reason is StatusFailure.MALFORMED_ENTRY
    assert why in str(caught.value)


def test_lists_must_have_the_herd_privacy_minimum() -> None:
    with pytest.raises(ValueError, match="131072"):
        StatusBitstring.of_size(MIN_STATUS_LIST_BITS - 8)

    assert StatusBitstring.of_size(2 * MIN_STATUS_LIST_BITS).size == 2 * MIN_STATUS_LIST_BITS


# --- status checked while verifying a credential ---


@pytest.fixture
def issuer() -> MemberKeys:
    return MemberKeys.from_phrase(ZERO_PHRASE)


def _member_credential(issuer: MemberKeys, now: datetime, entries: list[dict[str, Any]]) -> dict[str, Any]:
    unsigned = {
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ada"},
        "credentialStatus": entries,
    }
    return issue_credential(unsigned, issuer, created=now)


def _list(
    issuer: MemberKeys,
    now: datetime,
    bits: StatusBitstring,
    *,
    url: str = LIST_URL,
    purpose: StatusPurpose = StatusPurpose.REVOCATION,
    **changes: Any,
) -> bytes:
    unsigned = status_list_credential(
        list_url=url, issuer=issuer.did, purpose=purpose, bitstring=bits, valid_from=now - timedelta(days=1)
    )
    signed = issue_credential(unsigned | changes, issuer, created=now)
    return json.dumps(signed).encode()


def _verify(credential: dict[str, Any], lists: dict[str, bytes], now: datetime) -> Any:
    return verify_credential(
        credential, default_resolver(), now=now, status_list_fetcher=mapping_fetcher(lists)
    )


def _reason(check: Callable[[], object]) -> StatusFailure:
    with pytest.raises(StatusError) as caught:
        check()
    return caught.value.reason


def test_a_clear_bit_leaves_the_credential_valid_and_reports_its_status(
    issuer: MemberKeys, now: datetime
) -> None:
    entry = status_list_entry(list_url=LIST_URL, index=94567, purpose=StatusPurpose.REVOCATION)
    credential = _member_credential(issuer, now, [entry])

    verified = _verify(credential, {LIST_URL: _list(issuer, now, StatusBitstring().with_status(94566))}, now)

    assert [(result.entry.index, result.status, result.valid) for result in verified.status] == [
        (94567, 0, True)
    ]


def test_a_revoked_credential_is_refused_as_revoked(issuer: MemberKeys, now: datetime) -> None:
    entry = status_list_entry(list_url=LIST_URL, index=42, purpose=StatusPurpose.REVOCATION)
    credential = _member_credential(issuer, now, [entry])
    revoked = _list(issuer, now, StatusBitstring().with_status(42))

    assert _reason(lambda: _verify(credential, {LIST_URL: revoked}, now)) is StatusFailure.REVOKED
    assert verify_credential(credential, default_resolver(), now=now).status == ()


def test_a_suspension_refuses_the_credential_until_it_is_lifted(issuer: MemberKeys, now: datetime) -> None:
    entries = [
        status_list_entry(list_url=LIST_URL, index=7, purpose=StatusPurpose.REVOCATION),
        status_list_entry(list_url=SUSPENSIONS_URL, index=7, purpose=StatusPurpose.SUSPENSION),
    ]
    credential = _member_credential(issuer, now, entries)
    revocations = _list(issuer, now, StatusBitstring())
    suspended = StatusBitstring().with_status(7)

    def lists(bits: StatusBitstring) -> dict[str, bytes]:
        purpose = StatusPurpose.SUSPENSION
        return {
            LIST_URL: revocations,
            SUSPENSIONS_URL: _list(issuer, now, bits, url=SUSPENSIONS_URL, purpose=purpose),
        }

    assert _reason(lambda: _verify(credential, lists(suspended), now)) is StatusFailure.SUSPENDED
    assert len(_verify(credential, lists(suspended.with_status(7, 0)), now).status) == 2


@pytest.mark.parametrize(
    ("served", "reason"),
    [
        (lambda issuer, now: {}, StatusFailure.RETRIEVAL),
        (lambda issuer, now: {LIST_URL: b"not json"}, StatusFailure.RETRIEVAL),
        (
            lambda issuer, now: {
                LIST_URL: _list(issuer, now, StatusBitstring()).replace(b"2025-", b"2024-", 1)
            },
            StatusFailure.VERIFICATION,
        ),
        (
            lambda issuer, now: {
                LIST_URL: _list(issuer, now, StatusBitstring(), validUntil="2025-05-01T00:00:00Z")
            },
            StatusFailure.VERIFICATION,
        ),
        (
            lambda issuer, now: {
                LIST_URL: _list(issuer, now, StatusBitstring(), purpose=StatusPurpose.SUSPENSION)
            },
            StatusFailure.VERIFICATION,
        ),
        (
            lambda issuer, now: {
                LIST_URL: _list(issuer, now, StatusBitstring(), id="https://river.example/status/9")
            },
            StatusFailure.VERIFICATION,
        ),
        (
            lambda issuer, now: {
                LIST_URL: _list(issuer, now, StatusBitstring(), type=["VerifiableCredential"])
            },
            StatusFailure.VERIFICATION,
        ),
        (
            lambda issuer, now: {LIST_URL: _list(issuer, now, StatusBitstring(bytes(1024)))},
            StatusFailure.LIST_LENGTH,
        ),
    ],
    ids=[
        "absent",
        "not-json",
        "altered",
        "expired",
        "wrong-purpose",
        "another-list",
        "not-a-list",
        "too-short",
    ],
)
def test_a_status_that_cannot_be_established_refuses_the_credential(
    issuer: MemberKeys, now: datetime, served: Any, reason: StatusFailure
) -> None:
    credential = _member_credential(
        issuer, now, [status_list_entry(list_url=LIST_URL, index=3, purpose=StatusPurpose.REVOCATION)]
    )

    assert _reason(lambda: _verify(credential, served(issuer, now), now)) is reason


def test_an_index_beyond_the_list_is_a_range_error(issuer: MemberKeys, now: datetime) -> None:
    entry = status_list_entry(list_url=LIST_URL, index=MIN_STATUS_LIST_BITS, purpose=StatusPurpose.REVOCATION)
    credential = _member_credential(issuer, now, [entry])

    assert _reason(lambda: _verify(credential, {LIST_URL: _list(issuer, now, StatusBitstring())}, now)) is (
        StatusFailure.RANGE
    )


def test_a_message_status_is_reported_not_refused(issuer: MemberKeys, now: datetime) -> None:
    messages = [{"status": hex(value), "message": name} for value, name in enumerate(["a", "b", "c", "d"])]
    entry = status_list_entry(list_url=LIST_URL, index=5, purpose=StatusPurpose.MESSAGE) | {
        "statusSize": 2,
        "statusMessage": messages,
    }
    credential = _member_credential(issuer, now, [entry])
    bits = StatusBitstring.of_size(2 * MIN_STATUS_LIST_BITS).with_status(5, value=2, status_size=2)

    verified = _verify(credential, {LIST_URL: _list(issuer, now, bits, purpose=StatusPurpose.MESSAGE)}, now)

    assert [(result.status, result.valid, result.message) for result in verified.status] == [(2, False, "c")]
