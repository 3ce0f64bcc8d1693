"""W3C Verifiable Credentials Data Model 2.0: issue and verify credentials with eddsa-jcs-2022.

Pure functions: the time is always passed in (`created` when issuing, `now` when verifying),
never read here, so a verdict can be reproduced for any instant.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime

from shared.signing import SigningKey
from shared.trust.credential_model import (
    VC_V2_CONTEXT,
    JsonObject,
    check_credential_shape,
    check_validity_period,
    credential_issuer,
)
from shared.trust.data_integrity import add_proof, proof_options, verify_proof
from shared.trust.errors import CredentialError, CredentialFailure
from shared.trust.fetching import Fetcher
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import DidResolver
from shared.trust.status_check import StatusResult, check_credential_status

__all__ = [
    "VC_V2_CONTEXT",
    "VerifiedCredential",
    "check_credential_shape",
    "credential_issuer",
    "issue_credential",
    "sign_credential",
    "verify_credential",
]


@dataclass(frozen=True)
class VerifiedCredential:
    """A credential whose proof verified and which is valid at the instant it was checked.

    `status` holds what its status lists said, when they were checked (empty otherwise).
    """

    credential: JsonObject
    issuer: str
    verification_method: str
    status: tuple[StatusResult, ...] = ()


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


def sign_credential(
    credential: JsonObject, *, signing_key: SigningKey, verification_method: str, created: datetime
) -> JsonObject:
    """Secure a credential whose issuer is any DID (a community's did:webvh) with one of its keys.

    `verification_method` is the DID URL of `signing_key` in the issuer's DID document
    (`did:webvh:…#key-1`); it must belong to the credential's issuer.
    """
    unsigned = copy.deepcopy(credential)
    if "proof" in unsigned:
        raise CredentialError(CredentialFailure.ALREADY_SIGNED, "the credential already has a proof")
    issuer = credential_issuer(check_credential_shape(unsigned))
    if verification_method.partition("#")[0] != issuer:
        raise CredentialError(
            CredentialFailure.ISSUER_MISMATCH,
            f"the credential's issuer is {issuer}, but {verification_method} is not one of its keys",
        )
    return add_proof(unsigned, proof_options(verification_method, created), signing_key)


def verify_credential(
    credential: object,
    resolver: DidResolver,
    *,
    now: datetime,
    status_list_fetcher: Fetcher | None = None,
) -> VerifiedCredential:
    """Verify a credential's proof, its issuer's key and its validity period at `now`.

    With `status_list_fetcher`, every `BitstringStatusListEntry` in `credentialStatus` is checked
    too, the lists read through it and verified with `resolver`. Raises CredentialError,
    ProofError or StatusError (all TrustError) with the first reason it fails.
    """
    shaped = check_credential_shape(credential)
    issuer = credential_issuer(shaped)
    verified = verify_proof(shaped, resolver, expected_controller=issuer, now=now)
    check_validity_period(shaped, now)
    status: tuple[StatusResult, ...] = ()
    if status_list_fetcher is not None:
        status = check_credential_status(shaped, status_list_fetcher, resolver, now=now)
    return VerifiedCredential(
        credential=shaped, issuer=issuer, verification_method=verified.verification_method.id, status=status
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
