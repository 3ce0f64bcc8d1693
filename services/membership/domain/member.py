"""A member's lifecycle: invited → applied → admitted (active) → suspended → left / removed.

Standing is computed from `now`: active until the term ends, still in good standing through the
grace period, expired after it. Nothing here reads a clock.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from services.membership.domain.events import (
    CredentialIssued,
    CredentialStatusSet,
    MemberAdmitted,
    MemberApplied,
    MemberInvited,
    MemberLeft,
    MemberReinstated,
    MemberRejected,
    MemberRemoved,
    MembershipAcknowledged,
    MembershipRenewed,
    MemberSuspended,
    ProfileUpdated,
    RolesChanged,
)
from services.membership.domain.policy import DAY_NS, MembershipType
from shared.domain import Aggregate, DomainError, applies

Statement = dict[str, Any] | None
ENDED = ("left", "removed", "rejected")


def member_id(community: str, key: str) -> str:
    return f"{community}.member.{hashlib.sha256(key.encode()).hexdigest()[:40]}"


class Member(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "new"
        self.did = ""
        self.name = ""
        self.email = ""
        self.external_id = ""
        self.membership_type = ""
        self.roles: tuple[str, ...] = ()
        self.tags: tuple[str, ...] = ()
        self.profile: dict[str, str] = {}
        self.answers: dict[str, str] = {}
        self.code_hash = ""
        self.invited_by = ""
        self.expires_ns = 0
        self.grace_ns = 0
        self.credentials: list[CredentialIssued] = []
        self.acknowledged_digest = ""

    @property
    def community(self) -> str:
        return self.id.split(".", 1)[0]

    # -- standing ------------------------------------------------------------------------------

    def standing(self, now: int) -> str:
        """active | in_grace | expired for admitted members, else the lifecycle status."""
        if self.status != "active":
            return self.status
        if now < self.expires_ns:
            return "active"
        if now < self.expires_ns + self.grace_ns:
            return "in_grace"
        return "expired"

    def in_good_standing(self, now: int) -> bool:
        return self.standing(now) in ("active", "in_grace")

    def require_may_act(self, now: int) -> None:
        """A member acting for herself must not be suspended, gone, or past her grace period."""
        state = self.standing(now)
        if state == "suspended":
            raise DomainError("member_suspended", "a suspended member cannot act in this community")
        if state in ENDED or state in ("new", "invited", "applied"):
            raise DomainError("not_a_member", f"this person is not a member (status {state})")
        if state == "expired":
            raise DomainError("membership_expired", "this membership has expired; renew it first")

    @property
    def membership_credential(self) -> CredentialIssued | None:
        for issued in reversed(self.credentials):
            if issued.kind == "MembershipCredential":
                return issued
        return None

    # -- joining -------------------------------------------------------------------------------

    @classmethod
    def invite(
        cls,
        aggregate_id: str,
        *,
        name: str,
        email: str,
        external_id: str,
        did: str,
        membership_type: str,
        roles: tuple[str, ...],
        tags: tuple[str, ...],
        profile: dict[str, str],
        code_hash: str,
        source: str,
        by: str,
        statement: Statement,
        now: int,
    ) -> Member:
        member = cls(aggregate_id)
        member.trigger(
            MemberInvited,
            now,
            name=_name(name),
            email=email,
            external_id=external_id,
            did=did,
            membership_type=membership_type,
            roles=roles,
            tags=tags,
            profile=profile,
            code_hash=code_hash,
            source=source,
            by=by,
            statement=statement,
        )
        return member

    @applies(MemberInvited)
    def _invited(self, event: MemberInvited) -> None:
        self.status = "invited"
        self.name = event.name
        self.email = event.email
        self.external_id = event.external_id
        self.did = event.did
        self.membership_type = event.membership_type
        self.roles = event.roles
        self.tags = event.tags
        self.profile = dict(event.profile)
        self.code_hash = event.code_hash
        self.invited_by = event.by

    def check_invitation(self, *, did: str, code: str) -> None:
        """The applicant is the invited person: her DID was invited, or she holds the code."""
        if self.status != "invited":
            raise DomainError("invitation_used", f"this invitation is no longer open (status {self.status})")
        if self.did:
            if self.did != did:
                raise DomainError("invalid_invitation", "this invitation is for another DID")
            return
        digest = hashlib.sha256(code.encode()).hexdigest()
        if not code or not self.code_hash or not hmac.compare_digest(digest, self.code_hash):
            raise DomainError("invalid_invitation", "the invitation code does not match")

    def apply(
        self,
        *,
        did: str,
        name: str,
        answers: dict[str, str],
        profile: dict[str, str],
        membership_type: str,
        statement: Statement,
        now: int,
    ) -> None:
        if self.status not in ("new", "invited"):
            raise DomainError("duplicate_member", f"{did} is already known here (status {self.status})")
        self.trigger(
            MemberApplied,
            now,
            did=did,
            name=_name(name or self.name),
            answers=answers,
            profile={**self.profile, **profile},
            membership_type=membership_type or self.membership_type,
            statement=statement,
        )

    @applies(MemberApplied)
    def _applied(self, event: MemberApplied) -> None:
        self.status = "applied"
        self.did = event.did
        self.name = event.name
        self.answers = dict(event.answers)
        self.profile = dict(event.profile)
        self.membership_type = event.membership_type

    def admit(
        self,
        *,
        kind: MembershipType,
        roles: tuple[str, ...],
        by: str,
        statement: Statement,
        now: int,
        did: str = "",
        name: str = "",
    ) -> None:
        if self.status == "invited" and not (did or self.did):
            raise DomainError("not_applied", "this person has not joined with her DID yet")
        if self.status not in ("new", "invited", "applied"):
            raise DomainError("already_admitted", f"this member cannot be admitted (status {self.status})")
        self.trigger(
            MemberAdmitted,
            now,
            did=did or self.did,
            name=_name(name or self.name),
            membership_type=kind.name,
            roles=roles,
            term_start_ns=now,
            expires_ns=now + kind.duration_days * DAY_NS,
            grace_ns=kind.grace_days * DAY_NS,
            by=by,
            statement=statement,
        )

    @applies(MemberAdmitted)
    def _admitted(self, event: MemberAdmitted) -> None:
        self.status = "active"
        self.did = event.did
        self.name = event.name
        self.membership_type = event.membership_type
        self.roles = event.roles
        self.expires_ns = event.expires_ns
        self.grace_ns = event.grace_ns

    def reject(self, *, reason: str, by: str, statement: Statement, now: int) -> None:
        if self.status not in ("invited", "applied"):
            raise DomainError(
                "not_pending", f"only a pending person can be turned down (status {self.status})"
            )
        self.trigger(MemberRejected, now, reason=reason, by=by, statement=statement)

    @applies(MemberRejected)
    def _rejected(self, event: MemberRejected) -> None:
        self.status = "rejected"

    # -- credentials ---------------------------------------------------------------------------

    def record_credential(
        self,
        *,
        kind: str,
        credential: dict[str, Any],
        index: int,
        status_list: str,
        valid_until: str,
        now: int,
    ) -> None:
        self.trigger(
            CredentialIssued,
            now,
            kind=kind,
            credential=credential,
            status_index=index,
            status_list=status_list,
            valid_until=valid_until,
        )

    @applies(CredentialIssued)
    def _credential(self, event: CredentialIssued) -> None:
        self.credentials.append(event)

    def record_status(self, *, index: int, purpose: str, value: bool, now: int) -> None:
        self.trigger(CredentialStatusSet, now, status_index=index, purpose=purpose, value=value)

    @applies(CredentialStatusSet)
    def _status_set(self, event: CredentialStatusSet) -> None:
        pass

    def acknowledge(
        self, *, acknowledgement: dict[str, Any], digest: str, statement: Statement, now: int
    ) -> None:
        self.require_may_act(now)
        if self.acknowledged_digest == digest:
            raise DomainError("already_acknowledged", "this credential is already acknowledged")
        self.trigger(
            MembershipAcknowledged, now, acknowledgement=acknowledgement, digest=digest, statement=statement
        )

    @applies(MembershipAcknowledged)
    def _acknowledged(self, event: MembershipAcknowledged) -> None:
        self.acknowledged_digest = event.digest

    # -- while a member ------------------------------------------------------------------------

    def suspend(self, *, reason: str, by: str, statement: Statement, now: int) -> None:
        if self.status != "active":
            raise DomainError("not_active", f"only an active member can be suspended (status {self.status})")
        self.trigger(MemberSuspended, now, reason=reason, by=by, statement=statement)

    @applies(MemberSuspended)
    def _suspended(self, event: MemberSuspended) -> None:
        self.status = "suspended"

    def reinstate(self, *, by: str, statement: Statement, now: int) -> None:
        if self.status != "suspended":
            raise DomainError("not_suspended", "only a suspended member can be reinstated")
        self.trigger(MemberReinstated, now, by=by, statement=statement)

    @applies(MemberReinstated)
    def _reinstated(self, event: MemberReinstated) -> None:
        self.status = "active"

    def leave(self, *, statement: Statement, now: int) -> None:
        # Leaving is always open to a member, suspended or not: nobody is held in a community.
        if self.status not in ("active", "suspended"):
            raise DomainError("not_a_member", f"only a member can leave (status {self.status})")
        self.trigger(MemberLeft, now, statement=statement)

    @applies(MemberLeft)
    def _left(self, event: MemberLeft) -> None:
        self.status = "left"

    def remove(self, *, reason: str, by: str, statement: Statement, now: int) -> None:
        if self.status not in ("active", "suspended", "invited", "applied"):
            raise DomainError("not_a_member", f"this person cannot be removed (status {self.status})")
        self.trigger(MemberRemoved, now, reason=reason, by=by, statement=statement)

    @applies(MemberRemoved)
    def _removed(self, event: MemberRemoved) -> None:
        self.status = "removed"

    def renew(self, *, kind: MembershipType, by: str, statement: Statement, now: int) -> None:
        if self.status != "active":
            raise DomainError(
                "not_renewable", f"this membership cannot be renewed (status {self.standing(now)})"
            )
        start = max(self.expires_ns, now)
        self.trigger(
            MembershipRenewed,
            now,
            expires_ns=start + kind.duration_days * DAY_NS,
            grace_ns=kind.grace_days * DAY_NS,
            by=by,
            statement=statement,
        )

    @applies(MembershipRenewed)
    def _renewed(self, event: MembershipRenewed) -> None:
        self.expires_ns = event.expires_ns
        self.grace_ns = event.grace_ns

    def change_roles(self, *, roles: tuple[str, ...], by: str, statement: Statement, now: int) -> None:
        if self.status not in ("active", "suspended"):
            raise DomainError("not_a_member", f"roles belong to members (status {self.status})")
        if roles == self.roles:
            raise DomainError("roles_unchanged", "the member already has exactly these roles")
        self.trigger(RolesChanged, now, roles=roles, by=by, statement=statement)

    @applies(RolesChanged)
    def _roles(self, event: RolesChanged) -> None:
        self.roles = event.roles

    def update_profile(
        self,
        *,
        name: str,
        profile: dict[str, str],
        tags: tuple[str, ...] | None,
        by: str,
        statement: Statement,
        now: int,
    ) -> None:
        if by == self.did:
            self.require_may_act(now)
        self.trigger(
            ProfileUpdated,
            now,
            name=_name(name or self.name),
            profile={**self.profile, **profile},
            tags=self.tags if tags is None else tags,
            by=by,
            statement=statement,
        )

    @applies(ProfileUpdated)
    def _profile(self, event: ProfileUpdated) -> None:
        self.name = event.name
        self.profile = dict(event.profile)
        self.tags = event.tags


def _name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise DomainError("invalid_name", "a member's name is 1-120 characters")
    return name
