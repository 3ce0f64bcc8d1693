"""Events of the MEMBERSHIP stream (tags are the stored contract: never change one, add a new one).

`statement` is the acting member's signed statement, verbatim; None only for acts of the
hosting operator (`by == "operator"`) or of the service itself (credential bookkeeping).
"""

from __future__ import annotations

from typing import Any

from services.membership.domain.policy import Policy
from shared.domain import Event
from shared.eventcodec import EventRegistry

Statement = dict[str, Any] | None


class CommunityCreated(Event, frozen=True, tag="membership.community_created.v1"):
    slug: str
    name: str
    did: str  # the community's did:webvh, issuer of its credentials
    policy: Policy
    admin: str  # did:key of the first admin
    by: str  # the creator's did:key, or "operator"
    statement: Statement = None


class CommunityConfigured(Event, frozen=True, tag="membership.community_configured.v1"):
    name: str
    policy: Policy
    by: str
    statement: Statement = None


class CommunityArchived(Event, frozen=True, tag="membership.community_archived.v1"):
    reason: str
    by: str
    statement: Statement = None


class KeyClaimed(Event, frozen=True, tag="membership.key_claimed.v1"):
    """A DID, email or external id now names one member of the community (no duplicates)."""

    member_id: str


class MemberInvited(Event, frozen=True, tag="membership.member_invited.v1"):
    name: str
    email: str = ""
    external_id: str = ""
    did: str = ""
    membership_type: str = ""
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    profile: dict[str, str] = {}
    code_hash: str = ""  # sha256 hex of the invitation code; the code goes to the person only
    source: str = "invite"  # invite | import
    by: str = ""
    statement: Statement = None


class MemberApplied(Event, frozen=True, tag="membership.member_applied.v1"):
    did: str
    name: str
    answers: dict[str, str]
    profile: dict[str, str]
    membership_type: str
    statement: Statement = None


class MemberAdmitted(Event, frozen=True, tag="membership.member_admitted.v1"):
    did: str
    name: str
    membership_type: str
    roles: tuple[str, ...]
    term_start_ns: int
    expires_ns: int
    grace_ns: int
    by: str
    statement: Statement = None


class MemberRejected(Event, frozen=True, tag="membership.member_rejected.v1"):
    reason: str
    by: str
    statement: Statement = None


class CredentialIssued(Event, frozen=True, tag="membership.credential_issued.v1"):
    kind: str  # MembershipCredential | AuthorityCredential
    credential: dict[str, Any]
    status_index: int
    status_list: str
    valid_until: str


class CredentialStatusSet(Event, frozen=True, tag="membership.credential_status_set.v1"):
    status_index: int
    purpose: str  # revocation | suspension
    value: bool


class MembershipAcknowledged(Event, frozen=True, tag="membership.membership_acknowledged.v1"):
    acknowledgement: dict[str, Any]  # the member's own MembershipCredential with digestMultibase
    digest: str
    statement: Statement = None


class MemberSuspended(Event, frozen=True, tag="membership.member_suspended.v1"):
    reason: str
    by: str
    statement: Statement = None


class MemberReinstated(Event, frozen=True, tag="membership.member_reinstated.v1"):
    by: str
    statement: Statement = None


class MemberLeft(Event, frozen=True, tag="membership.member_left.v1"):
    statement: Statement = None


class MemberRemoved(Event, frozen=True, tag="membership.member_removed.v1"):
    reason: str
    by: str
    statement: Statement = None


class MembershipRenewed(Event, frozen=True, tag="membership.membership_renewed.v1"):
    expires_ns: int
    grace_ns: int
    by: str
    statement: Statement = None


class RolesChanged(Event, frozen=True, tag="membership.roles_changed.v1"):
    roles: tuple[str, ...]
    by: str
    statement: Statement = None


class ProfileUpdated(Event, frozen=True, tag="membership.profile_updated.v1"):
    name: str
    profile: dict[str, str]
    tags: tuple[str, ...]
    by: str
    statement: Statement = None


class RollSnapshotted(Event, frozen=True, tag="membership.roll_snapshotted.v1"):
    community: str
    at_ns: int
    members: tuple[str, ...]  # sorted member DIDs in good standing at `at_ns`
    root: str  # RFC 9162 Merkle tree hash over `members`, hex
    size: int


REGISTRY = EventRegistry(
    [
        CommunityCreated,
        CommunityConfigured,
        CommunityArchived,
        KeyClaimed,
        MemberInvited,
        MemberApplied,
        MemberAdmitted,
        MemberRejected,
        CredentialIssued,
        CredentialStatusSet,
        MembershipAcknowledged,
        MemberSuspended,
        MemberReinstated,
        MemberLeft,
        MemberRemoved,
        MembershipRenewed,
        RolesChanged,
        ProfileUpdated,
        RollSnapshotted,
    ]
)
