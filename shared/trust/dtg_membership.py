"""DTG MembershipCredential: the community's grant to a member, and the member's signed acknowledgement.

A membership edge is a pair. The community (its did:webvh) issues the grant to the member's
did:key, with a finite `validUntil` and a `BitstringStatusListEntry` so it can be revoked or
suspended. The member answers with a MembershipCredential of their own, issued to the community,
whose subject carries `digestMultibase`: the digest of the signed grant they accept. A community
can name anyone a member; only the acknowledgement, which it cannot forge, proves consent. The
grant must not carry a digest, since that property is what marks the answering direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.trust.canonical_json import canonicalize
from shared.trust.credential_model import JsonObject
from shared.trust.dtg_common import DtgCredential, check_dtg_credential, dtg_credential, require_did_key
from shared.trust.errors import DtgError, DtgFailure, StatusError
from shared.trust.multihash import digest_multibase
from shared.trust.status_list import StatusEntry, StatusPurpose, credential_status_entries

__all__ = [
    "MEMBERSHIP",
    "MembershipAcknowledgement",
    "MembershipGrant",
    "credential_digest",
    "membership_acknowledgement",
    "membership_credential",
    "validate_membership_acknowledgement",
    "validate_membership_credential",
]

MEMBERSHIP = "MembershipCredential"


@dataclass(frozen=True)
class MembershipGrant:
    """A valid-shaped membership grant: community, member, and the status entries that can end it."""

    credential: DtgCredential
    status: tuple[StatusEntry, ...]

    @property
    def community(self) -> str:
        return self.credential.issuer

    @property
    def member(self) -> str:
        return self.credential.subject_id


@dataclass(frozen=True)
class MembershipAcknowledgement:
    """A member's acknowledgement matched to the grant it answers."""

    credential: DtgCredential
    grant: MembershipGrant
    digest: str


def credential_digest(credential: JsonObject) -> str:
    """`digestMultibase` of a credential as signed: multibase base58btc of the sha2-256 multihash of its JCS.

    The proof is included, so the digest names exactly the credential the member was given.
    """
    return digest_multibase(canonicalize(credential))


def membership_credential(
    *,
    community: str,
    member: str,
    valid_from: datetime,
    valid_until: datetime,
    status: JsonObject | list[JsonObject],
    credential_id: str | None = None,
) -> JsonObject:
    """The community's unsigned grant of membership to `member` (a did:key); checked before return."""
    credential = dtg_credential(
        MEMBERSHIP,
        issuer=community,
        subject={"id": member},
        valid_from=valid_from,
        valid_until=valid_until,
        credential_id=credential_id,
        credential_status=status,
    )
    validate_membership_credential(credential, community=community)
    return credential


def validate_membership_credential(credential: object, *, community: str | None = None) -> MembershipGrant:
    """Check a membership grant: DTG shape, finite validity, member did:key, revocable status."""
    base = check_dtg_credential(credential, MEMBERSHIP, require_valid_until=True)
    if "digestMultibase" in base.subject:
        raise DtgError(
            DtgFailure.UNEXPECTED_DIGEST,
            "a membership grant carries no digestMultibase (an acknowledgement does)",
        )
    if community is not None and base.issuer != community:
        raise DtgError(DtgFailure.WRONG_ISSUER, f"the grant is issued by {base.issuer}, not by {community}")
    require_did_key(base.subject_id, DtgFailure.SUBJECT_NOT_MEMBER_KEY, "member")
    if "credentialStatus" not in base.credential:
        raise DtgError(DtgFailure.MISSING_STATUS, "a membership grant must carry a BitstringStatusListEntry")
    try:
        entries = credential_status_entries(base.credential)
    except StatusError as exc:
        raise DtgError(DtgFailure.INVALID_STATUS, f"credentialStatus: {exc}") from exc
    if not any(entry.purpose == StatusPurpose.REVOCATION for entry in entries):
        raise DtgError(
            DtgFailure.MISSING_STATUS, "a membership grant must be revocable (statusPurpose revocation)"
        )
    return MembershipGrant(credential=base, status=tuple(entries))


def membership_acknowledgement(
    grant: JsonObject,
    *,
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
) -> JsonObject:
    """The member's unsigned answer to a signed grant: issued by the member, about the community.

    It lasts as long as the grant unless `valid_until` says otherwise; sign it with the member's key.
    """
    accepted = validate_membership_credential(grant)
    return dtg_credential(
        MEMBERSHIP,
        issuer=accepted.member,
        subject={"id": accepted.community, "digestMultibase": credential_digest(grant)},
        valid_from=valid_from,
        valid_until=valid_until or accepted.credential.valid_until,
        credential_id=credential_id,
    )


def validate_membership_acknowledgement(acknowledgement: object, grant: object) -> MembershipAcknowledgement:
    """Check that `acknowledgement` is the grant's member answering exactly that grant."""
    base = check_dtg_credential(acknowledgement, MEMBERSHIP)
    digest = base.subject.get("digestMultibase")
    if not isinstance(digest, str):
        raise DtgError(DtgFailure.MISSING_DIGEST, "an acknowledgement carries the grant's digestMultibase")
    require_did_key(base.issuer, DtgFailure.ISSUER_NOT_MEMBER_KEY, "acknowledging member")
    accepted = validate_membership_credential(grant)
    if base.issuer != accepted.member or base.subject_id != accepted.community:
        raise DtgError(
            DtgFailure.ACKNOWLEDGEMENT_MISMATCH,
            f"the acknowledgement is from {base.issuer} about {base.subject_id}; the grant is from "
            f"{accepted.community} to {accepted.member}",
        )
    if digest != credential_digest(accepted.credential.credential):
        raise DtgError(
            DtgFailure.DIGEST_MISMATCH, "digestMultibase is not the digest of this grant as signed"
        )
    return MembershipAcknowledgement(credential=base, grant=accepted, digest=digest)
