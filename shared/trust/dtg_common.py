"""What every ToIP DTG credential shares: contexts, the `DTGCredential` type, issuer, subject, validity.

From the DTG Core Credentials draft ("Base Structure"): `@context` holds the VC 2.0 and the DTG
context, `type` holds `VerifiableCredential`, `DTGCredential` and exactly one concrete type,
`validFrom` is required and `credentialSubject.id` names the subject. Builders return unsigned
credentials (sign them with `issue_credential` or `sign_credential`); validators check a
credential's DTG shape and refuse with a `DtgFailure`. Proofs, validity at an instant and status
are `verify_credential`'s work, done before a validator is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.trust.credential_model import VC_V2_CONTEXT, JsonObject, credential_issuer, credential_types
from shared.trust.datetimes import format_datetime, parse_datetime
from shared.trust.did_key import parse_did_key
from shared.trust.errors import CredentialError, DidError, DtgError, DtgFailure

__all__ = [
    "DTG_BASE_TYPE",
    "DTG_CONTEXT",
    "DTG_TYPES",
    "DtgCredential",
    "check_dtg_credential",
    "dtg_credential",
    "require_did_key",
]

DTG_CONTEXT = "https://firstperson.network/credentials/dtg/v1"
DTG_BASE_TYPE = "DTGCredential"
# Concrete types of the draft, plus the two this profile adds (see decision record 0011).
DTG_TYPES = frozenset(
    {
        "MembershipCredential",
        "RelationshipCredential",
        "InvitationCredential",
        "PersonaCredential",
        "EndorsementCredential",
        "WitnessCredential",
        "AuthorityCredential",
        "DelegationCredential",
    }
)
# A non-authoritative hint the draft lets a MembershipCredential carry besides its concrete type.
_HINT_TYPES = frozenset({"PersonhoodCredential"})


@dataclass(frozen=True)
class DtgCredential:
    """A credential that passed the DTG base checks: who issued it, about whom, and until when."""

    credential: JsonObject
    kind: str
    issuer: str
    subject: JsonObject
    valid_from: datetime
    valid_until: datetime | None

    @property
    def subject_id(self) -> str:
        subject_id: str = self.subject["id"]
        return subject_id


def dtg_credential(
    kind: str,
    *,
    issuer: str,
    subject: JsonObject,
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
    credential_status: Any = None,
) -> JsonObject:
    """An unsigned DTG credential of concrete type `kind` (e.g. "MembershipCredential")."""
    if kind not in DTG_TYPES:
        raise ValueError(f"{kind!r} is not a DTG credential type")
    credential: JsonObject = {"@context": [VC_V2_CONTEXT, DTG_CONTEXT]}
    if credential_id is not None:
        credential["id"] = credential_id
    credential |= {
        "type": ["VerifiableCredential", DTG_BASE_TYPE, kind],
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    credential["credentialSubject"] = subject
    if credential_status is not None:
        credential["credentialStatus"] = credential_status
    return credential


def check_dtg_credential(
    credential: object, kind: str, *, require_valid_until: bool = False
) -> DtgCredential:
    """Check the DTG base structure and that the credential is of concrete type `kind`."""
    if not isinstance(credential, dict):
        raise DtgError(DtgFailure.NOT_DTG_CREDENTIAL, "a credential is a JSON object")
    context = credential.get("@context")
    if not isinstance(context, list) or context[:1] != [VC_V2_CONTEXT] or DTG_CONTEXT not in context:
        raise DtgError(
            DtgFailure.NOT_DTG_CREDENTIAL,
            f"@context must start with {VC_V2_CONTEXT} and include {DTG_CONTEXT}",
        )
    types = credential_types(credential)
    if "VerifiableCredential" not in types or DTG_BASE_TYPE not in types:
        raise DtgError(
            DtgFailure.NOT_DTG_CREDENTIAL, f"type must include VerifiableCredential and {DTG_BASE_TYPE}"
        )
    concrete = [
        value for value in types if value not in {"VerifiableCredential", DTG_BASE_TYPE, *_HINT_TYPES}
    ]
    if concrete != [kind]:
        raise DtgError(DtgFailure.WRONG_TYPE, f"expected exactly one concrete type, {kind}; found {concrete}")
    try:
        issuer = credential_issuer(credential)
    except CredentialError as exc:
        raise DtgError(DtgFailure.NOT_DTG_CREDENTIAL, str(exc)) from exc
    valid_from = _datetime(credential, "validFrom", DtgFailure.MISSING_VALID_FROM)
    valid_until = None
    if "validUntil" in credential or require_valid_until:
        valid_until = _datetime(credential, "validUntil", DtgFailure.MISSING_VALID_UNTIL)
        if valid_until <= valid_from:
            raise DtgError(DtgFailure.VALIDITY_INVERTED, "validUntil must be later than validFrom")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict) or not isinstance(subject.get("id"), str) or not subject["id"]:
        raise DtgError(DtgFailure.MISSING_SUBJECT, "credentialSubject must be one object with an 'id'")
    return DtgCredential(
        credential=credential,
        kind=kind,
        issuer=issuer,
        subject=subject,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def require_did_key(did: str, failure: DtgFailure, role: str) -> None:
    """Refuse unless `did` is a member's Ed25519 did:key."""
    try:
        parse_did_key(did)
    except DidError as exc:
        raise DtgError(failure, f"the {role} must be a member's did:key: {exc}") from exc


def _datetime(credential: JsonObject, name: str, missing: DtgFailure) -> datetime:
    if name not in credential:
        raise DtgError(missing, f"a DTG credential of this kind must have {name}")
    try:
        return parse_datetime(credential[name])
    except ValueError as exc:
        raise DtgError(missing, f"{name}: {exc}") from exc
