"""Checking a credential's status against its Bitstring Status Lists (the spec's Validate Algorithm).

Each list is fetched through the injected fetcher (once per URL), verified as a credential in its
own right (proof by its issuer, validity period, type, purpose, length), and the credential's
bit read from it. A set `revocation` or `suspension` bit refuses the credential with that reason;
`refresh` and `message` statuses are reported, never refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.trust.canonical_json import JsonError, loads_strict
from shared.trust.credential_model import (
    JsonObject,
    check_credential_shape,
    check_validity_period,
    credential_issuer,
    credential_types,
)
from shared.trust.data_integrity import verify_proof
from shared.trust.errors import StatusError, StatusFailure, TrustError
from shared.trust.fetching import Fetcher, FetchError
from shared.trust.resolver import DidResolver
from shared.trust.status_list import (
    MIN_STATUS_LIST_BITS,
    STATUS_LIST_CREDENTIAL_TYPE,
    STATUS_LIST_TYPE,
    StatusBitstring,
    StatusEntry,
    StatusPurpose,
    credential_status_entries,
)

__all__ = ["StatusResult", "check_credential_status", "verified_status_list"]


@dataclass(frozen=True)
class StatusResult:
    """The status one entry reports: its value, whether it leaves the credential valid, its message."""

    entry: StatusEntry
    status: int
    valid: bool
    message: str | None


def check_credential_status(
    credential: JsonObject, fetcher: Fetcher, resolver: DidResolver, *, now: datetime
) -> tuple[StatusResult, ...]:
    """Check every `BitstringStatusListEntry` of `credential`; StatusError if revoked or suspended."""
    lists: dict[str, JsonObject] = {}
    results = []
    for entry in credential_status_entries(credential):
        if entry.list_url not in lists:
            lists[entry.list_url] = verified_status_list(entry.list_url, fetcher, resolver, now=now)
        result = _status(entry, lists[entry.list_url])
        if entry.purpose == StatusPurpose.REVOCATION and not result.valid:
            raise StatusError(StatusFailure.REVOKED, f"the credential is revoked (list {entry.list_url})")
        if entry.purpose == StatusPurpose.SUSPENSION and not result.valid:
            raise StatusError(StatusFailure.SUSPENDED, f"the credential is suspended (list {entry.list_url})")
        results.append(result)
    return tuple(results)


def verified_status_list(
    list_url: str, fetcher: Fetcher, resolver: DidResolver, *, now: datetime
) -> JsonObject:
    """Fetch the status-list credential at `list_url` and verify it as a credential and as a list."""
    try:
        document = loads_strict(fetcher(list_url))
    except (FetchError, OSError, JsonError) as exc:
        raise StatusError(StatusFailure.RETRIEVAL, f"cannot read the status list {list_url}: {exc}") from exc
    try:
        credential = check_credential_shape(document)
        verify_proof(credential, resolver, expected_controller=credential_issuer(credential), now=now)
        check_validity_period(credential, now)
    except TrustError as exc:
        raise StatusError(
            StatusFailure.VERIFICATION, f"the status list {list_url} does not verify: {exc} [{exc.reason}]"
        ) from exc
    if STATUS_LIST_CREDENTIAL_TYPE not in credential_types(credential):
        raise _unverified(list_url, f"its type does not include {STATUS_LIST_CREDENTIAL_TYPE}")
    if credential.get("id", list_url) != list_url:
        # Another list, however valid, must not answer for this one.
        raise _unverified(list_url, f"it is the list {credential.get('id')!r}")
    subject = credential["credentialSubject"]
    if not isinstance(subject, dict) or subject.get("type") != STATUS_LIST_TYPE:
        raise _unverified(list_url, f"its credentialSubject is not a {STATUS_LIST_TYPE}")
    return credential


def _status(entry: StatusEntry, list_credential: JsonObject) -> StatusResult:
    subject = list_credential["credentialSubject"]
    purposes = subject.get("statusPurpose")
    if entry.purpose not in (purposes if isinstance(purposes, list) else [purposes]):
        raise _unverified(entry.list_url, f"it does not publish the {entry.purpose!r} status")
    bitstring = StatusBitstring.decode(subject.get("encodedList"))
    if bitstring.size // entry.size < MIN_STATUS_LIST_BITS:
        raise StatusError(
            StatusFailure.LIST_LENGTH,
            f"the status list {entry.list_url} has room for {bitstring.size // entry.size} entries, "
            f"fewer than the {MIN_STATUS_LIST_BITS} herd privacy needs",
        )
    status = bitstring.status(entry.index, entry.size)
    message = None
    if entry.messages:
        wanted = hex(status)
        message = next(
            (
                str(item.get("message"))
                for item in entry.messages
                if isinstance(item, dict) and item.get("status") == wanted
            ),
            None,
        )
    return StatusResult(entry=entry, status=status, valid=status == 0, message=message)


def _unverified(list_url: str, why: str) -> StatusError:
    return StatusError(StatusFailure.VERIFICATION, f"the status list {list_url} cannot be used: {why}")
