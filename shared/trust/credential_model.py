"""What VCDM 2.0 requires of every credential: its context, type, issuer, subject and validity period.

Kept apart from issuing and verifying so that status-list checking, which verifies a second
credential while checking the first, can use these rules without importing the verifier itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.trust.datetimes import parse_datetime
from shared.trust.errors import CredentialError, CredentialFailure

__all__ = [
    "VC_V2_CONTEXT",
    "JsonObject",
    "check_credential_shape",
    "check_validity_period",
    "credential_issuer",
    "credential_types",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

JsonObject = dict[str, Any]


def credential_issuer(credential: JsonObject) -> str:
    """The issuer's URL: `issuer` itself, or its `id` when the issuer is an object."""
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str) or not issuer:
        raise CredentialError(
            CredentialFailure.MISSING_ISSUER, "the credential has no issuer (a URL or {id: URL})"
        )
    return issuer


def credential_types(credential: JsonObject) -> list[str]:
    """The credential's `type` values as a list (a single string is a one-element list)."""
    types = credential.get("type")
    return [value for value in (types if isinstance(types, list) else [types]) if isinstance(value, str)]


def check_credential_shape(credential: object) -> JsonObject:
    """Check what VCDM 2.0 requires of every credential; return it typed as a JSON object."""
    if not isinstance(credential, dict):
        raise CredentialError(CredentialFailure.NOT_A_CREDENTIAL, "a credential is a JSON object")
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_V2_CONTEXT:
        raise CredentialError(
            CredentialFailure.NOT_A_CREDENTIAL,
            f"@context must be a list starting with {VC_V2_CONTEXT}",
        )
    if "VerifiableCredential" not in credential_types(credential):
        raise CredentialError(CredentialFailure.NOT_A_CREDENTIAL, "type must include 'VerifiableCredential'")
    if not isinstance(credential.get("credentialSubject"), dict | list):
        raise CredentialError(CredentialFailure.NOT_A_CREDENTIAL, "credentialSubject is missing")
    for name in ("validFrom", "validUntil"):
        if name in credential:
            try:
                parse_datetime(credential[name])
            except ValueError as exc:
                raise CredentialError(CredentialFailure.INVALID_DATETIME, f"{name}: {exc}") from exc
    return credential


def check_validity_period(credential: JsonObject, now: datetime) -> None:
    """Refuse a (shape-checked) credential that is not yet, or no longer, valid at `now`."""
    if "validFrom" in credential and now < parse_datetime(credential["validFrom"]):
        raise CredentialError(
            CredentialFailure.NOT_YET_VALID, f"the credential is valid from {credential['validFrom']}"
        )
    if "validUntil" in credential and now > parse_datetime(credential["validUntil"]):
        raise CredentialError(
            CredentialFailure.EXPIRED, f"the credential expired at {credential['validUntil']}"
        )
