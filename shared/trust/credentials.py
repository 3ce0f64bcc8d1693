"""W3C Verifiable Credentials Data Model 2.0: issue and verify credentials with eddsa-jcs-2022.

Pure functions: the time is always passed in (`created` when issuing, `now` when verifying),
never read here, so a verdict can be reproduced for any instant.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.trust.data_integrity import add_proof, proof_options, verify_proof
from shared.trust.datetimes import parse_datetime
from shared.trust.errors import CredentialError, CredentialFailure
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import DidResolver

__all__ = [
    "VC_V2_CONTEXT",
    "VerifiedCredential",
    "check_credential_shape",
    "credential_issuer",
    "issue_credential",
    "verify_credential",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential whose proof verified and which is valid at the instant it was checked."""

    credential: JsonObject
    issuer: str
    verification_method: str


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
    types = credential.get("type")
    type_list = types if isinstance(types, list) else [types]
    if "VerifiableCredential" not in type_list:
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


def issue_credential(credential: JsonObject, keys: MemberKeys, *, created: datetime) -> JsonObject:
    """Secure an unsigned credential with the member's did:key (set as issuer when absent)."""
    unsigned = copy.deepcopy(credential)
    if "proof" in unsigned:
        raise CredentialError(CredentialFailure.ALREADY_SIGNED, "the credential already has a proof")
    if "issuer" not in unsigned:
        unsigned = _with_issuer(unsigned, keys.did)
    check_credential_shape(unsigned)
    issuer = credential_issuer(unsigned)
    if issuer != keys.did:
        raise CredentialError(
            CredentialFailure.ISSUER_MISMATCH,
            f"the credential's issuer is {issuer}, but the signing key belongs to {keys.did}",
        )
    options = proof_options(keys.verification_method, created)
    return add_proof(unsigned, options, keys.signing_key)


def verify_credential(credential: object, resolver: DidResolver, *, now: datetime) -> VerifiedCredential:
    """Verify a credential's proof, its issuer's key and its validity period at `now`.

    Raises CredentialError or ProofError (both TrustError) with the first reason it fails.
    """
    shaped = check_credential_shape(credential)
    issuer = credential_issuer(shaped)
    verified = verify_proof(shaped, resolver, expected_controller=issuer, now=now)
    if "validFrom" in shaped and now < parse_datetime(shaped["validFrom"]):
        raise CredentialError(
            CredentialFailure.NOT_YET_VALID, f"the credential is valid from {shaped['validFrom']}"
        )
    if "validUntil" in shaped and now > parse_datetime(shaped["validUntil"]):
        raise CredentialError(CredentialFailure.EXPIRED, f"the credential expired at {shaped['validUntil']}")
    return VerifiedCredential(
        credential=shaped, issuer=issuer, verification_method=verified.verification_method.id
    )


def _with_issuer(credential: JsonObject, issuer: str) -> JsonObject:
    """`credential` with `issuer` placed after `type`, where VCDM examples put it.

    Only for the reader: JCS signs the same bytes whatever the member order.
    """
    result: JsonObject = {}
    for name, value in credential.items():
        result[name] = value
        if name == "type":
            result["issuer"] = issuer
    result.setdefault("issuer", issuer)
    return result
