"""DID sign-in: challenge, answer signed on the member's device, tokens; refresh; sign out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from services.gateway.deps import Nats
from services.gateway.errors import ErrorBody
from services.gateway.forward import forward

ORDER = 30
router = APIRouter(prefix="/c/{community}/auth", tags=["sign-in"])
Community = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,128}$")]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 409, 422, 503)
}


class ChallengeRequest(BaseModel):
    member: str = Field(min_length=8, max_length=200, description="the member's did:key")


class SignedStatement(BaseModel):
    statement: dict[str, Any] = Field(description="a CommunityStatement signed by the member")


class SessionRequest(BaseModel):
    session: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,128}$")
    refresh_token: str = Field(min_length=16, max_length=200)


@router.post("/challenge", responses=ERRORS)
async def challenge(community: Community, body: ChallengeRequest, nc: Nats) -> Any:
    return await forward(nc, "identity", "challenge", {"community": community, "member": body.member})


@router.post("/sign-in", responses=ERRORS)
async def sign_in(community: Community, body: SignedStatement, nc: Nats) -> Any:
    return await forward(nc, "identity", "sign_in", {"community": community, "statement": body.statement})


@router.post("/refresh", responses=ERRORS)
async def refresh(community: Community, body: SessionRequest, nc: Nats) -> Any:
    payload = {"community": community, "session": body.session, "refresh_token": body.refresh_token}
    return await forward(nc, "identity", "refresh", payload)


@router.post("/sign-out", responses=ERRORS)
async def sign_out(community: Community, body: SessionRequest, nc: Nats) -> Any:
    payload = {"community": community, "session": body.session, "refresh_token": body.refresh_token}
    return await forward(nc, "identity", "sign_out", payload)
