"""A signed-in session: refresh tokens rotate on every use; reusing an old one ends the session."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from services.identity.domain.events import SessionEnded, SessionRefreshed, SessionStarted
from shared.domain import Aggregate, DomainError, applies


def session_id(community: str, ident: str) -> str:
    return f"{community}.session.{ident}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Session(Aggregate):
    member: str
    active: bool
    refresh_hash: str
    expires_ns: int

    @classmethod
    def start(
        cls,
        *,
        community: str,
        ident: str,
        member: str,
        refresh_token: str,
        expires_ns: int,
        statement: dict[str, Any],
        now: int,
    ) -> Session:
        session = cls(session_id(community, ident))
        session.trigger(
            SessionStarted,
            now,
            community=community,
            member=member,
            refresh_hash=token_hash(refresh_token),
            expires_ns=expires_ns,
            statement=statement,
        )
        return session

    @applies(SessionStarted)
    def _started(self, event: SessionStarted) -> None:
        self.community = event.community
        self.member = event.member
        self.active = True
        self.refresh_hash = event.refresh_hash
        self.expires_ns = event.expires_ns
        self.used_hashes: set[str] = set()

    def refresh(self, *, presented: str, new_token: str, expires_ns: int, now: int) -> None:
        """Rotate the refresh token. A token used before means it was stolen: end the session."""
        if not self.active:
            raise DomainError("session_ended", "this session has ended; sign in again")
        digest = token_hash(presented)
        if digest in self.used_hashes:
            self.trigger(SessionEnded, now, reason="refresh_token_reused")
            return
        if not hmac.compare_digest(digest, self.refresh_hash):
            raise DomainError("invalid_refresh_token", "the refresh token does not match")
        if now >= self.expires_ns:
            raise DomainError("session_expired", "this session has expired; sign in again")
        self.trigger(SessionRefreshed, now, refresh_hash=token_hash(new_token), expires_ns=expires_ns)

    @applies(SessionRefreshed)
    def _refreshed(self, event: SessionRefreshed) -> None:
        self.used_hashes.add(self.refresh_hash)
        self.refresh_hash = event.refresh_hash
        self.expires_ns = event.expires_ns

    def sign_out(self, *, presented: str, now: int) -> None:
        """End the session; the current refresh token proves it is the member's own device."""
        if not self.active:
            raise DomainError("session_ended", "this session has already ended")
        if not hmac.compare_digest(token_hash(presented), self.refresh_hash):
            raise DomainError("invalid_refresh_token", "the refresh token does not match")
        self.trigger(SessionEnded, now, reason="signed_out")

    @applies(SessionEnded)
    def _ended(self, event: SessionEnded) -> None:
        self.active = False
        self.end_reason = event.reason
