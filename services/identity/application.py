"""Identity use cases: invite, accept, revoke; challenge, sign in, refresh, sign out."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError

from services.identity.config import IdentitySettings
from services.identity.domain.events import REGISTRY
from services.identity.domain.invite import Invite, invite_id
from services.identity.domain.inviter import Inviter, inviter_id
from services.identity.domain.session import Session, session_id
from services.identity.retry import Conflict, retrying
from shared.application import NotFound, ServiceApplication
from shared.domain import DomainError
from shared.signing import SigningKey
from shared.statements import VerifiedStatement
from shared.subjects import InvalidSubject, check_token
from shared.tokens import Claims, TokenRejected, issue_token, verify_token
from shared.trust.credentials import verify_credential
from shared.trust.datetimes import parse_datetime
from shared.trust.errors import TrustError
from shared.trust.resolver import default_resolver

NS = 10**9


def _ident(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise DomainError("invalid_request", f"{what} is required")
    try:
        return check_token(value, what)
    except InvalidSubject as exc:
        raise DomainError("invalid_request", str(exc)) from exc


def _moment(now_ns: int) -> datetime:
    return datetime.fromtimestamp(now_ns / NS, tz=UTC)


class IdentityApplication(ServiceApplication):
    registry: ClassVar = REGISTRY
    settings: IdentitySettings = IdentitySettings()
    token_key: SigningKey

    def configure(self, settings: IdentitySettings, token_key: SigningKey) -> IdentityApplication:
        self.settings = settings
        self.token_key = token_key
        return self

    # -- invites ---------------------------------------------------------------------------

    @retrying
    def create_invite(self, statement: VerifiedStatement, now: int) -> dict[str, Any]:
        body = statement.body
        ident = _ident(body.get("invite"), "invite")
        credential = body.get("credential")
        try:
            expires_ns = int(parse_datetime(body.get("expires_at")).timestamp() * NS)
            verified = verify_credential(credential, default_resolver(), now=_moment(now))
        except TrustError as exc:
            raise DomainError("invalid_invitation_credential", str(exc)) from exc
        shaped = verified.credential
        types = shaped.get("type", [])
        if "InvitationCredential" not in (types if isinstance(types, list) else [types]):
            raise DomainError(
                "invalid_invitation_credential", "the credential is not an InvitationCredential"
            )
        if verified.issuer != statement.actor:
            raise DomainError("invalid_invitation_credential", "the credential is not issued by the inviter")
        invite = Invite.create(
            community=statement.community,
            ident=ident,
            inviter=statement.actor,
            recipient_name=str(body.get("recipient_name", "")),
            expires_ns=expires_ns,
            token_hash=str(body.get("token_hash", "")),
            credential=shaped,
            statement=statement.document,
            now=now,
        )
        inviter = self._inviter(statement.community, statement.actor)
        inviter.issue(invite.id, limit=self.settings.invite_limit, now=now)
        try:
            self.save(invite, inviter)  # one atomic batch: the invite and the quota together
        except IntegrityError as exc:
            if self.exists(Invite, invite.id):
                raise DomainError("invite_exists", f"invite {ident} already exists") from exc
            raise Conflict(inviter.id) from exc
        return self._invite_view(invite, now)

    @retrying
    def accept_invite(self, statement: VerifiedStatement, now: int) -> dict[str, Any]:
        ident = _ident(statement.body.get("invite"), "invite")
        invite = self.load(Invite, invite_id(statement.community, ident))
        invite.accept(
            invitee=statement.actor,
            token=str(statement.body.get("token", "")),
            statement=statement.document,
            now=now,
        )
        inviter = self._inviter(statement.community, invite.inviter)
        inviter.settle(invite.id, now=now)
        self._save_or_conflict(invite, inviter)
        return self._invite_view(invite, now)

    @retrying
    def revoke_invite(self, statement: VerifiedStatement, now: int) -> dict[str, Any]:
        ident = _ident(statement.body.get("invite"), "invite")
        invite = self.load(Invite, invite_id(statement.community, ident))
        invite.revoke(by=statement.actor, statement=statement.document, now=now)
        inviter = self._inviter(statement.community, invite.inviter)
        inviter.settle(invite.id, now=now)
        self._save_or_conflict(invite, inviter)
        return self._invite_view(invite, now)

    def get_invite(self, community: str, ident: str, now: int) -> dict[str, Any]:
        invite = self.load(Invite, invite_id(_ident(community, "community"), _ident(ident, "invite")))
        return self._invite_view(invite, now)

    def _inviter(self, community: str, member: str) -> Inviter:
        aggregate_id = inviter_id(community, member)
        try:
            return self.load(Inviter, aggregate_id)
        except NotFound:
            return Inviter(aggregate_id)

    def _save_or_conflict(self, *aggregates: Any) -> None:
        try:
            self.save(*aggregates)
        except IntegrityError as exc:
            raise Conflict(", ".join(str(a.id) for a in aggregates)) from exc

    @staticmethod
    def _invite_view(invite: Invite, now: int) -> dict[str, Any]:
        return {
            "invite": invite.id.rsplit(".", 1)[-1],
            "community": invite.community,
            "inviter": invite.inviter,
            "recipient_name": invite.recipient_name,
            "status": invite.state_at(now),
            "invitee": invite.invitee,
            "expires_at": _moment(invite.expires_ns).isoformat(),
        }

    # -- sign-in ---------------------------------------------------------------------------

    def issue_challenge(self, community: str, member: str, now: int) -> dict[str, Any]:
        _ident(community, "community")
        if not member.startswith("did:"):
            raise DomainError("invalid_request", "member must be a DID")
        seconds = now // NS
        claims = Claims(
            iss=self.token_key.key_id,
            sub=member,
            community=community,
            purpose="challenge",
            iat=seconds,
            exp=seconds + self.settings.challenge_ttl_s,
            nonce=secrets.token_urlsafe(24),
        )
        return {"challenge": issue_token(self.token_key, claims), "expires_in": self.settings.challenge_ttl_s}

    def check_challenge(self, statement: VerifiedStatement, now: int) -> Claims:
        """The challenge a sign-in statement answers, if it was issued by us to this member."""
        try:
            claims = verify_token(
                str(statement.body.get("challenge", "")),
                trusted_issuers={self.token_key.key_id},
                now=now // NS,
                purpose="challenge",
                community=statement.community,
            )
        except TokenRejected as exc:
            raise DomainError(str(exc.code), exc.message) from exc
        if claims.sub != statement.actor:
            raise DomainError("wrong_member", "the challenge was issued to another DID")
        return claims

    def sign_in(self, statement: VerifiedStatement, now: int) -> dict[str, Any]:
        refresh_token = secrets.token_urlsafe(32)
        ident = secrets.token_hex(16)
        session = Session.start(
            community=statement.community,
            ident=ident,
            member=statement.actor,
            refresh_token=refresh_token,
            expires_ns=now + self.settings.refresh_ttl_s * NS,
            statement=statement.document,
            now=now,
        )
        self.save(session)
        return self._tokens(session, ident, refresh_token, now)

    def refresh(self, community: str, ident: str, refresh_token: str, now: int) -> dict[str, Any]:
        session = self.load(Session, session_id(_ident(community, "community"), _ident(ident, "session")))
        new_token = secrets.token_urlsafe(32)
        session.refresh(
            presented=refresh_token,
            new_token=new_token,
            expires_ns=now + self.settings.refresh_ttl_s * NS,
            now=now,
        )
        self._save_or_conflict(session)
        if not session.active:
            raise DomainError(
                "refresh_token_reused",
                "this refresh token was already used; the session is ended to protect you",
            )
        return self._tokens(session, ident, new_token, now)

    def sign_out(self, community: str, ident: str, refresh_token: str, now: int) -> dict[str, Any]:
        session = self.load(Session, session_id(_ident(community, "community"), _ident(ident, "session")))
        session.sign_out(presented=refresh_token, now=now)
        self._save_or_conflict(session)
        return {"session": ident, "active": False}

    def _tokens(self, session: Session, ident: str, refresh_token: str, now: int) -> dict[str, Any]:
        seconds = now // NS
        access = issue_token(
            self.token_key,
            Claims(
                iss=self.token_key.key_id,
                sub=session.member,
                community=session.community,
                purpose="access",
                iat=seconds,
                exp=seconds + self.settings.access_ttl_s,
                sid=ident,
            ),
        )
        return {
            "session": ident,
            "member": session.member,
            "access_token": access,
            "expires_in": self.settings.access_ttl_s,
            "refresh_token": refresh_token,
        }
