"""W3C Bitstring Status List v1.0: the bitstring, the status-list credential, and the entries pointing in.

A list is at least 131,072 bits (16KB) so one credential hides among many; index 0 is the
left-most (most significant) bit of the first byte. `encodedList` is multibase base64url (`u`,
no padding) of the GZIP of the bitstring, written with a zero mtime so the same list always
encodes to the same text (the specification's example list is reproduced byte for byte).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.trust.credential_model import VC_V2_CONTEXT, JsonObject
from shared.trust.datetimes import format_datetime
from shared.trust.errors import StatusError, StatusFailure

__all__ = [
    "MIN_STATUS_LIST_BITS",
    "STATUS_ENTRY_TYPE",
    "STATUS_LIST_CREDENTIAL_TYPE",
    "STATUS_LIST_TYPE",
    "StatusBitstring",
    "StatusEntry",
    "StatusPurpose",
    "credential_status_entries",
    "parse_status_entry",
    "status_list_credential",
    "status_list_entry",
]

MIN_STATUS_LIST_BITS = 131_072
STATUS_ENTRY_TYPE = "BitstringStatusListEntry"
STATUS_LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
STATUS_LIST_TYPE = "BitstringStatusList"
# A status list this large (128 Mbit) is far past any community; more is a decompression bomb.
_MAX_LIST_BYTES = 16 * 1024 * 1024
_INDEX = re.compile(r"[0-9]+")


class StatusPurpose(StrEnum):
    """The `statusPurpose` values the specification defines."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"
    REFRESH = "refresh"
    MESSAGE = "message"


@dataclass(frozen=True)
class StatusBitstring:
    """An immutable status bitstring; `with_status` returns the changed copy."""

    data: bytes = bytes(MIN_STATUS_LIST_BITS // 8)

    @classmethod
    def of_size(cls, bits: int = MIN_STATUS_LIST_BITS) -> StatusBitstring:
        """An all-clear list of `bits` bits (at least the 131,072 the specification requires)."""
        if bits < MIN_STATUS_LIST_BITS or bits % 8:
            raise ValueError(f"a status list has a multiple of 8 bits and at least {MIN_STATUS_LIST_BITS}")
        return cls(bytes(bits // 8))

    @property
    def size(self) -> int:
        """The number of bits."""
        return len(self.data) * 8

    def status(self, index: int, status_size: int = 1) -> int:
        """The `status_size`-bit value of entry `index` (entry i starts at bit i * status_size)."""
        start = index * status_size
        if index < 0 or start + status_size > self.size:
            raise StatusError(StatusFailure.RANGE, f"status index {index} is outside a {self.size}-bit list")
        value = 0
        for bit in range(start, start + status_size):
            value = (value << 1) | (self.data[bit // 8] >> (7 - bit % 8)) & 1
        return value

    def with_status(self, index: int, value: int = 1, status_size: int = 1) -> StatusBitstring:
        """A copy with entry `index` set to `value` (1 sets a revocation or suspension, 0 clears it)."""
        if not 0 <= value < 1 << status_size:
            raise ValueError(f"status {value} does not fit in {status_size} bit(s)")
        self.status(index, status_size)  # range check
        data = bytearray(self.data)
        start = index * status_size
        for offset in range(status_size):
            bit = start + offset
            mask = 1 << (7 - bit % 8)
            if value >> (status_size - 1 - offset) & 1:
                data[bit // 8] |= mask
            else:
                data[bit // 8] &= ~mask
        return StatusBitstring(bytes(data))

    def encode(self) -> str:
        """The `encodedList` value: multibase base64url (no padding) of the GZIP-compressed bits."""
        compressed = gzip.compress(self.data, compresslevel=6, mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, encoded: object) -> StatusBitstring:
        """Expand an `encodedList` value (Bitstring Expansion Algorithm); StatusError if malformed."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusError(StatusFailure.MALFORMED_LIST, "encodedList is not multibase base64url ('u…')")
        text = encoded[1:]
        if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
            raise StatusError(StatusFailure.MALFORMED_LIST, "encodedList is not unpadded base64url")
        try:
            compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            inflater = zlib.decompressobj(wbits=31)  # 31: expect a GZIP header and trailer
            data = inflater.decompress(compressed, _MAX_LIST_BYTES)
            if inflater.unconsumed_tail or not inflater.eof:
                raise StatusError(StatusFailure.MALFORMED_LIST, "encodedList is truncated or too large")
        except (binascii.Error, zlib.error) as exc:
            raise StatusError(StatusFailure.MALFORMED_LIST, f"encodedList is not GZIP data: {exc}") from exc
        return cls(data)


@dataclass(frozen=True)
class StatusEntry:
    """A parsed `BitstringStatusListEntry`: which bit(s) of which list speak for a credential."""

    purpose: str
    index: int
    list_url: str
    size: int = 1
    messages: tuple[JsonObject, ...] = ()


def status_list_entry(
    *, list_url: str, index: int, purpose: StatusPurpose, entry_id: str | None = None
) -> JsonObject:
    """A `BitstringStatusListEntry` for a credential's `credentialStatus` (one bit, at `index`)."""
    if index < 0:
        raise ValueError("a status list index is 0 or more")
    entry: JsonObject = {
        "id": entry_id or f"{list_url}#{index}",
        "type": STATUS_ENTRY_TYPE,
        "statusPurpose": str(purpose),
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }
    return entry


def status_list_credential(
    *,
    list_url: str,
    issuer: str,
    purpose: StatusPurpose,
    bitstring: StatusBitstring,
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl_ms: int | None = None,
) -> JsonObject:
    """An unsigned `BitstringStatusListCredential` publishing `bitstring` at `list_url`."""
    credential: JsonObject = {
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", STATUS_LIST_CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    subject: JsonObject = {
        "id": f"{list_url}#list",
        "type": STATUS_LIST_TYPE,
        "statusPurpose": str(purpose),
        "encodedList": bitstring.encode(),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    credential["credentialSubject"] = subject
    return credential


def parse_status_entry(value: object) -> StatusEntry:
    """Check a `BitstringStatusListEntry` (MALFORMED_VALUE_ERROR in the spec's terms) and read it."""
    if not isinstance(value, dict) or value.get("type") != STATUS_ENTRY_TYPE:
        raise _malformed(f"a status entry must be an object of type {STATUS_ENTRY_TYPE}")
    purpose = value.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise _malformed("statusPurpose must be a non-empty string")
    index = value.get("statusListIndex")
    if not isinstance(index, str) or not _INDEX.fullmatch(index):
        raise _malformed('statusListIndex must be a base-10 integer written as a string, e.g. "94567"')
    list_url = value.get("statusListCredential")
    if not isinstance(list_url, str) or ":" not in list_url:
        raise _malformed("statusListCredential must be the URL of the status list credential")
    if value.get("id") == list_url:
        raise _malformed("the entry's id must not be the URL of the status list itself")
    size = value.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise _malformed("statusSize must be an integer greater than zero")
    messages = value.get("statusMessage")
    if size > 1 and messages is None:
        raise _malformed("statusMessage is required when statusSize is more than 1")
    if messages is not None and (not isinstance(messages, list) or len(messages) != 1 << size):
        raise _malformed(f"statusMessage must list {1 << size} messages, one per status value")
    return StatusEntry(
        purpose=purpose, index=int(index), list_url=list_url, size=size, messages=tuple(messages or ())
    )


def credential_status_entries(credential: JsonObject) -> list[StatusEntry]:
    """The status entries of a credential's `credentialStatus` (an object or a list of them)."""
    status: Any = credential.get("credentialStatus")
    if status is None:
        return []
    return [parse_status_entry(item) for item in (status if isinstance(status, list) else [status])]


def _malformed(message: str) -> StatusError:
    return StatusError(StatusFailure.MALFORMED_ENTRY, message)
