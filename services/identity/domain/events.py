"""Events of the IDENTITY stream (tags are the stored contract: never change one, add a new one)."""

from __future__ import annotations

from typing import Any

from shared.domain import Event
from shared.eventcodec import EventRegistry


class InviteCreated(Event, frozen=True, tag="identity.invite_created.v1"):
    community: str
    inviter: str  # did:key of the member who invites
    recipient_name: str
    expires_ns: int
    token_hash: str  # sha256 hex of the link's one-time secret; the secret never reaches us
    credential: dict[str, Any]  # the InvitationCredential, signed by the inviter
    statement: dict[str, Any]  # the inviter's signed statement, verbatim


class InviteAccepted(Event, frozen=True, tag="identity.invite_accepted.v1"):
    invitee: str  # did:key generated on the invitee's device
    statement: dict[str, Any]


class InviteRevoked(Event, frozen=True, tag="identity.invite_revoked.v1"):
    statement: dict[str, Any]


class InviteIssued(Event, frozen=True, tag="identity.inviter_invite_issued.v1"):
    invite_id: str


class InviteSettled(Event, frozen=True, tag="identity.inviter_invite_settled.v1"):
    invite_id: str


class SessionStarted(Event, frozen=True, tag="identity.session_started.v1"):
    community: str
    member: str
    refresh_hash: str
    expires_ns: int
    statement: dict[str, Any]  # the member's signed sign-in statement (answers the challenge)


class SessionRefreshed(Event, frozen=True, tag="identity.session_refreshed.v1"):
    refresh_hash: str
    expires_ns: int


class SessionEnded(Event, frozen=True, tag="identity.session_ended.v1"):
    reason: str  # signed_out | refresh_token_reused


REGISTRY = EventRegistry(
    [
        InviteCreated,
        InviteAccepted,
        InviteRevoked,
        InviteIssued,
        InviteSettled,
        SessionStarted,
        SessionRefreshed,
        SessionEnded,
    ]
)


class CommunityDidCreated(Event, frozen=True, tag="identity.community_did_created.v1"):
    community: str
    did: str
    key_index: int
    log_entry: dict[str, Any]  # the first did.jsonl line, exactly as published


class CommunityDidUpdated(Event, frozen=True, tag="identity.community_did_updated.v1"):
    key_index: int
    log_entry: dict[str, Any]


class CredentialIssued(Event, frozen=True, tag="identity.credential_issued.v1"):
    credential_type: str
    subject: str
    status_index: int
    credential: dict[str, Any]


class CredentialStatusSet(Event, frozen=True, tag="identity.credential_status_set.v1"):
    purpose: str  # revocation | suspension
    index: int
    value: bool


for _event in (CommunityDidCreated, CommunityDidUpdated, CredentialIssued, CredentialStatusSet):
    REGISTRY.register(_event)
