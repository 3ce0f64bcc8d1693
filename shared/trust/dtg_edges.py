"""DTG InvitationCredential (bootstraps a newcomer) and RelationshipCredential (member to member edge).

An invitation is issued by the community or by an inviting member to the prospective member and
always expires (`validUntil` required): invites are one-time and short-lived. A relationship
credential is one direction of a trust edge between two members; the pair, one each way, is the
edge, and it is what the trust network and the Introducer read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.trust.credential_model import JsonObject
from shared.trust.dtg_common import DtgCredential, check_dtg_credential, dtg_credential
from shared.trust.errors import DtgError, DtgFailure

__all__ = [
    "INVITATION",
    "RELATIONSHIP",
    "Invitation",
    "Relationship",
    "invitation_credential",
    "relationship_credential",
    "validate_invitation_credential",
    "validate_relationship_credential",
]

INVITATION = "InvitationCredential"
RELATIONSHIP = "RelationshipCredential"


@dataclass(frozen=True)
class Invitation:
    """An invitation: who invites whom, into which community when it says so, until when."""

    credential: DtgCredential
    community: str | None
    invitee_name: str | None

    @property
    def inviter(self) -> str:
        return self.credential.issuer

    @property
    def invitee(self) -> str:
        return self.credential.subject_id


@dataclass(frozen=True)
class Relationship:
    """One direction of a member-to-member trust edge."""

    credential: DtgCredential

    @property
    def source(self) -> str:
        return self.credential.issuer

    @property
    def target(self) -> str:
        return self.credential.subject_id


def invitation_credential(
    *,
    inviter: str,
    invitee: str,
    valid_from: datetime,
    valid_until: datetime,
    community: str | None = None,
    invitee_name: str | None = None,
    credential_id: str | None = None,
) -> JsonObject:
    """An unsigned invitation from `inviter` (community or member DID) to `invitee`, checked."""
    subject: JsonObject = {"id": invitee}
    if invitee_name is not None:
        subject["name"] = invitee_name
    if community is not None:
        subject["community"] = community
    credential = dtg_credential(
        INVITATION,
        issuer=inviter,
        subject=subject,
        valid_from=valid_from,
        valid_until=valid_until,
        credential_id=credential_id,
    )
    validate_invitation_credential(credential)
    return credential


def validate_invitation_credential(credential: object, *, community: str | None = None) -> Invitation:
    """Check an invitation: DTG shape, an expiry, a distinct invitee, the community if one is expected."""
    base = check_dtg_credential(credential, INVITATION, require_valid_until=True)
    if base.subject_id == base.issuer:
        raise DtgError(DtgFailure.SELF_REFERENCE, "an invitation cannot invite its own issuer")
    named_community = base.subject.get("community")
    if named_community is not None and not isinstance(named_community, str):
        raise DtgError(DtgFailure.WRONG_COMMUNITY, "credentialSubject.community must be a DID")
    if community is not None and community not in {base.issuer, named_community}:
        raise DtgError(
            DtgFailure.WRONG_COMMUNITY, f"the invitation is not into {community} (issuer {base.issuer})"
        )
    name = base.subject.get("name")
    return Invitation(
        credential=base, community=named_community, invitee_name=name if isinstance(name, str) else None
    )


def relationship_credential(
    *,
    source: str,
    target: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
) -> JsonObject:
    """An unsigned relationship credential from member `source` to member `target`, checked."""
    credential = dtg_credential(
        RELATIONSHIP,
        issuer=source,
        subject={"id": target},
        valid_from=valid_from,
        valid_until=valid_until,
        credential_id=credential_id,
    )
    validate_relationship_credential(credential)
    return credential


def validate_relationship_credential(credential: object) -> Relationship:
    """Check a relationship credential: DTG shape, two distinct DIDs at its ends."""
    base = check_dtg_credential(credential, RELATIONSHIP)
    for end, role in ((base.issuer, "issuer"), (base.subject_id, "subject")):
        if not end.startswith("did:"):
            raise DtgError(DtgFailure.NOT_A_DID, f"the relationship's {role} must be a DID, not {end!r}")
    if base.issuer == base.subject_id:
        raise DtgError(
            DtgFailure.SELF_REFERENCE, "a relationship needs two parties; issuer and subject are one"
        )
    return Relationship(credential=base)
