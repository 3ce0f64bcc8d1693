"""An invitation for one named person: pending until accepted (once), revoked, or expired."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from services.identity.domain.events import InviteAccepted, InviteCreated, InviteRevoked
from shared.domain import Aggregate, DomainError, applies

MAX_LIFETIME_NS = 30 * 24 * 3600 * 10**9


def invite_id(community: str, ident: str) -> str:
    return f"{community}.invite.{ident}"


class Invite(Aggregate):
    status: str
    inviter: str
    invitee: str | None
    expires_ns: int
    token_hash: str

    @classmethod
    def create(
        cls,
        *,
        community: str,
        ident: str,
        inviter: str,
        recipient_name: str,
        expires_ns: int,
        token_hash: str,
        credential: dict[str, Any],
        statement: dict[str, Any],
        now: int,
    ) -> Invite:
        name = recipient_name.strip()
        if not 1 <= len(name) <= 120:
            raise DomainError("invalid_recipient", "name the person you invite (1-120 characters)")
        if not now < expires_ns <= now + MAX_LIFETIME_NS:
            raise DomainError("invalid_expiry", "an invite expires in the future, within 30 days")
        if len(token_hash) != 64 or any(c not in "0123456789abcdef" for c in token_hash):
            raise DomainError("invalid_token_hash", "token_hash is the sha256 hex of the link secret")
        invite = cls(invite_id(community, ident))
        invite.trigger(
            InviteCreated,
            now,
            community=community,
            inviter=inviter,
            recipient_name=name,
            expires_ns=expires_ns,
            token_hash=token_hash,
            credential=credential,
            statement=statement,
        )
        return invite

    @applies(InviteCreated)
    def _created(self, event: InviteCreated) -> None:
        self.status = "pending"
        self.community = event.community
        self.inviter = event.inviter
        self.recipient_name = event.recipient_name
        self.invitee = None
        self.expires_ns = event.expires_ns
        self.token_hash = event.token_hash

    def state_at(self, now: int) -> str:
        if self.status == "pending" and now >= self.expires_ns:
            return "expired"
        return self.status

    def accept(self, *, invitee: str, token: str, statement: dict[str, Any], now: int) -> None:
        state = self.state_at(now)
        if state == "accepted":
            raise DomainError("invite_used", "this invite has already been used")
        if state != "pending":
            raise DomainError(f"invite_{state}", f"this invite is {state}")
        digest = hashlib.sha256(token.encode()).hexdigest()
        if not hmac.compare_digest(digest, self.token_hash):
            raise DomainError("invalid_invite_token", "the link's secret does not match this invite")
        if invitee == self.inviter:
            raise DomainError("self_invite", "an inviter cannot accept her own invite")
        self.trigger(InviteAccepted, now, invitee=invitee, statement=statement)

    @applies(InviteAccepted)
    def _accepted(self, event: InviteAccepted) -> None:
        self.status = "accepted"
        self.invitee = event.invitee

    def revoke(self, *, by: str, statement: dict[str, Any], now: int) -> None:
        if by != self.inviter:
            raise DomainError("not_inviter", "only the inviter can revoke an invite")
        state = self.state_at(now)
        if state != "pending":
            raise DomainError(f"invite_{state}", f"this invite is {state}")
        self.trigger(InviteRevoked, now, statement=statement)

    @applies(InviteRevoked)
    def _revoked(self, event: InviteRevoked) -> None:
        self.status = "revoked"
