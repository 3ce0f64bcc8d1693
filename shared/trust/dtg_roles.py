"""DTG AuthorityCredential (roles the community grants) and DelegationCredential (proxy votes).

Neither type is in the DTG Core Credentials draft; their names follow the DTG credentials
library that extends it, their fields are this profile's (decision record 0011). An authority
credential is issued by the community to a member and lists `credentialSubject.authority.roles`.
A delegation is issued by a member to another member, names the community, and is scoped to one
poll (`scope.poll`) or to a period (`scope.from` … `scope.until`); it always expires. A delegation
gives a proxy the right to vote; counting one vote per member is the roll's job, not this one's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.trust.credential_model import JsonObject
from shared.trust.datetimes import format_datetime, parse_datetime
from shared.trust.dtg_common import DtgCredential, check_dtg_credential, dtg_credential, require_did_key
from shared.trust.errors import DtgError, DtgFailure

__all__ = [
    "AUTHORITY",
    "DELEGATION",
    "AuthorityGrant",
    "Delegation",
    "authority_credential",
    "delegation_credential",
    "validate_authority_credential",
    "validate_delegation_credential",
]

AUTHORITY = "AuthorityCredential"
DELEGATION = "DelegationCredential"


@dataclass(frozen=True)
class AuthorityGrant:
    """Roles a community grants one member."""

    credential: DtgCredential
    roles: tuple[str, ...]

    @property
    def community(self) -> str:
        return self.credential.issuer

    @property
    def member(self) -> str:
        return self.credential.subject_id


@dataclass(frozen=True)
class Delegation:
    """A member's proxy for votes in one community, for one poll or for a period."""

    credential: DtgCredential
    community: str
    poll: str | None
    period: tuple[datetime, datetime] | None

    @property
    def delegator(self) -> str:
        return self.credential.issuer

    @property
    def proxy(self) -> str:
        return self.credential.subject_id

    def covers(self, *, poll: str, at: datetime) -> bool:
        """Whether the proxy may vote in `poll` at instant `at` under this delegation's scope."""
        if self.poll is not None:
            return self.poll == poll
        assert self.period is not None  # validation guarantees one of the two scopes
        start, end = self.period
        return start <= at < end


def authority_credential(
    *,
    community: str,
    member: str,
    roles: Sequence[str],
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
    status: JsonObject | list[JsonObject] | None = None,
) -> JsonObject:
    """An unsigned grant of `roles` by `community` to `member` (a did:key), checked."""
    credential = dtg_credential(
        AUTHORITY,
        issuer=community,
        subject={"id": member, "authority": {"roles": list(roles)}},
        valid_from=valid_from,
        valid_until=valid_until,
        credential_id=credential_id,
        credential_status=status,
    )
    validate_authority_credential(credential, community=community)
    return credential


def validate_authority_credential(
    credential: object, *, community: str | None = None, known_roles: Collection[str] | None = None
) -> AuthorityGrant:
    """Check an authority credential: issuer, member did:key, a non-empty set of (known) roles."""
    base = check_dtg_credential(credential, AUTHORITY)
    if community is not None and base.issuer != community:
        raise DtgError(DtgFailure.WRONG_ISSUER, f"roles are granted by {base.issuer}, not by {community}")
    require_did_key(base.subject_id, DtgFailure.SUBJECT_NOT_MEMBER_KEY, "role holder")
    authority = base.subject.get("authority")
    roles = authority.get("roles") if isinstance(authority, dict) else None
    if (
        not isinstance(roles, list)
        or not roles
        or not all(isinstance(role, str) and role for role in roles)
        or len(set(roles)) != len(roles)
    ):
        raise DtgError(
            DtgFailure.MISSING_ROLES, "credentialSubject.authority.roles must list distinct role names"
        )
    unknown = sorted(set(roles) - set(known_roles)) if known_roles is not None else []
    if unknown:
        raise DtgError(DtgFailure.UNKNOWN_ROLE, f"the community defines no role {', '.join(unknown)}")
    return AuthorityGrant(credential=base, roles=tuple(roles))


def delegation_credential(
    *,
    delegator: str,
    proxy: str,
    community: str,
    valid_from: datetime,
    valid_until: datetime,
    poll: str | None = None,
    period: tuple[datetime, datetime] | None = None,
    credential_id: str | None = None,
) -> JsonObject:
    """An unsigned proxy from `delegator` to `proxy` in `community`, for `poll` or for `period`, checked."""
    scope: JsonObject = {}
    if poll is not None:
        scope["poll"] = poll
    if period is not None:
        scope |= {"from": format_datetime(period[0]), "until": format_datetime(period[1])}
    credential = dtg_credential(
        DELEGATION,
        issuer=delegator,
        subject={"id": proxy, "delegation": {"community": community, "scope": scope}},
        valid_from=valid_from,
        valid_until=valid_until,
        credential_id=credential_id,
    )
    validate_delegation_credential(credential, community=community)
    return credential


def validate_delegation_credential(credential: object, *, community: str | None = None) -> Delegation:
    """Check a delegation: two distinct member did:keys, the community, one scope within the validity."""
    base = check_dtg_credential(credential, DELEGATION, require_valid_until=True)
    require_did_key(base.issuer, DtgFailure.ISSUER_NOT_MEMBER_KEY, "delegating member")
    require_did_key(base.subject_id, DtgFailure.SUBJECT_NOT_MEMBER_KEY, "proxy")
    if base.issuer == base.subject_id:
        raise DtgError(DtgFailure.SELF_REFERENCE, "a member cannot delegate to themself")
    delegation = base.subject.get("delegation")
    if not isinstance(delegation, dict) or not isinstance(delegation.get("community"), str):
        raise DtgError(
            DtgFailure.WRONG_COMMUNITY, "credentialSubject.delegation.community must name the community"
        )
    if community is not None and delegation["community"] != community:
        raise DtgError(
            DtgFailure.WRONG_COMMUNITY, f"the delegation is for {delegation['community']}, not {community}"
        )
    poll, period = _scope(delegation.get("scope"), base)
    return Delegation(credential=base, community=delegation["community"], poll=poll, period=period)


def _scope(scope: object, base: DtgCredential) -> tuple[str | None, tuple[datetime, datetime] | None]:
    if not isinstance(scope, dict) or not scope:
        raise DtgError(DtgFailure.MISSING_SCOPE, "a delegation is scoped to a poll or to a period")
    if set(scope) == {"poll"} and isinstance(scope["poll"], str) and scope["poll"]:
        return scope["poll"], None
    if set(scope) != {"from", "until"}:
        raise DtgError(
            DtgFailure.INVALID_SCOPE, "the scope is either {poll} or {from, until}, not both or others"
        )
    try:
        start, end = parse_datetime(scope["from"]), parse_datetime(scope["until"])
    except ValueError as exc:
        raise DtgError(DtgFailure.INVALID_SCOPE, f"scope period: {exc}") from exc
    if start >= end:
        raise DtgError(DtgFailure.INVALID_SCOPE, "the scope period must end after it starts")
    assert base.valid_until is not None  # required above
    if start < base.valid_from or end > base.valid_until:
        # Votes cast after the credential lapses would look delegated yet not verify; refuse the mismatch.
        raise DtgError(
            DtgFailure.SCOPE_OUTLIVES_CREDENTIAL, "the scope period lies outside the credential's validity"
        )
    return None, (start, end)
