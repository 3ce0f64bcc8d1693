"""Who is asking: a `cos1` access token from the identity service, checked locally."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request

from services.gateway.deps import Nats
from services.gateway.errors import GatewayError
from services.gateway.forward import forward
from shared.tokens import Claims, TokenFailure, TokenRejected, verify_token

ISSUER_REFRESH_S = 30.0


async def _trusted_issuers(request: Request, nc: Nats, *, refresh: bool) -> set[str]:
    state = request.app.state
    cached: set[str] | None = getattr(state, "token_issuers", None)
    fetched_at: float = getattr(state, "token_issuers_at", 0.0)
    stale = time.monotonic() - fetched_at > ISSUER_REFRESH_S
    if cached is None or (refresh and stale):
        result = await forward(nc, "identity", "token_keys", {})
        cached = set(result["issuers"])
        state.token_issuers, state.token_issuers_at = cached, time.monotonic()
    return cached


async def current_member(request: Request, nc: Nats) -> Claims:
    """The member named by a valid access token for the community in the path (401/403 if not)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise GatewayError(401, "unauthenticated", "sign in: send 'Authorization: Bearer <token>'")
    community = request.path_params.get("community")
    now = int(time.time())
    for refresh in (False, True):  # an unknown issuer may be a rotated key: ask identity once
        issuers = await _trusted_issuers(request, nc, refresh=refresh)
        try:
            claims = verify_token(token, trusted_issuers=issuers, now=now, purpose="access")
        except TokenRejected as exc:
            if exc.code == TokenFailure.UNTRUSTED_ISSUER and not refresh:
                continue
            raise GatewayError(401, str(exc.code), exc.message) from exc
        break
    if community is not None and claims.community != community:
        raise GatewayError(403, "wrong_community", f"this token is for {claims.community}, not {community}")
    return claims


Member = Annotated[Claims, Depends(current_member)]
