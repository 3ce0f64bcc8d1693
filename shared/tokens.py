"""Compact signed tokens: short-lived access tokens and one-time sign-in challenges.

`cos1.<base64url(JSON claims)>.<base64url(Ed25519 signature over "cos1." + claims part)>`, signed
by the identity service's key (named by did:key in `iss`), so the gateway and every service can
check a token with nothing but that public key.
"""

from __future__ import annotations

import base64
from enum import StrEnum

import msgspec

from shared.signing import BadSignature, SigningKey, verify_detached

__all__ = ["Claims", "TokenFailure", "TokenRejected", "issue_token", "verify_token"]

PREFIX = "cos1."


class TokenFailure(StrEnum):
    MALFORMED = "malformed_token"
    UNTRUSTED_ISSUER = "untrusted_issuer"
    BAD_SIGNATURE = "bad_token_signature"
    EXPIRED = "token_expired"
    WRONG_PURPOSE = "wrong_token_purpose"
    WRONG_COMMUNITY = "wrong_community"


class TokenRejected(ValueError):
    def __init__(self, code: TokenFailure, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Claims(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    iss: str  # did:key of the issuing identity service
    sub: str  # the member's did:key
    community: str
    purpose: str  # "access" | "challenge"
    iat: int  # Unix seconds
    exp: int
    sid: str = ""  # session id (access tokens)
    nonce: str = ""  # one-time value (challenges)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(key: SigningKey, claims: Claims) -> str:
    if claims.iss != key.key_id:
        raise ValueError("claims.iss must name the signing key")
    body = _b64(msgspec.json.encode(claims))
    return f"{PREFIX}{body}.{_b64(key.sign((PREFIX + body).encode()))}"


def verify_token(
    token: str,
    *,
    trusted_issuers: set[str],
    now: int,
    purpose: str,
    community: str | None = None,
) -> Claims:
    """Claims of a valid token, else TokenRejected naming why (checked in that order)."""
    if not isinstance(token, str) or not token.startswith(PREFIX) or len(token) > 4096:
        raise TokenRejected(TokenFailure.MALFORMED, "not a cos1 token")
    try:
        body, signature = token[len(PREFIX) :].split(".")
        claims = msgspec.json.decode(_unb64(body), type=Claims)
        sig = _unb64(signature)
    except (ValueError, msgspec.DecodeError) as exc:
        raise TokenRejected(TokenFailure.MALFORMED, f"unreadable token: {exc}") from exc
    if claims.iss not in trusted_issuers:
        raise TokenRejected(TokenFailure.UNTRUSTED_ISSUER, f"{claims.iss} is not a trusted issuer")
    try:
        verify_detached((PREFIX + body).encode(), sig, claims.iss)
    except (BadSignature, ValueError) as exc:
        raise TokenRejected(TokenFailure.BAD_SIGNATURE, "the token's signature does not verify") from exc
    if claims.purpose != purpose:
        raise TokenRejected(TokenFailure.WRONG_PURPOSE, f"a {claims.purpose} token, not {purpose}")
    if now >= claims.exp:
        raise TokenRejected(TokenFailure.EXPIRED, "the token has expired")
    if community is not None and claims.community != community:
        raise TokenRejected(TokenFailure.WRONG_COMMUNITY, f"issued for {claims.community}, not {community}")
    return claims
