"""Invites: create (signed by the inviter), look up, accept (signed by the invitee's new key), revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from services.gateway.auth import Member
from services.gateway.deps import Nats
from services.gateway.errors import GatewayError
from services.gateway.forward import forward
from services.gateway.routers.auth import ERRORS, Community, SignedStatement

ORDER = 40
router = APIRouter(prefix="/c/{community}", tags=["invites"])
InviteId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,128}$")]


def _signed_by(member: str, body: SignedStatement) -> None:
    if body.statement.get("actor") != member:
        raise GatewayError(403, "not_your_statement", "the statement is signed by another member")


@router.post("/invites", responses=ERRORS, status_code=201)
async def create_invite(community: Community, body: SignedStatement, member: Member, nc: Nats) -> Any:
    _signed_by(member.sub, body)
    return await forward(
        nc, "identity", "create_invite", {"community": community, "statement": body.statement}
    )


@router.get("/invites/{invite}", responses=ERRORS)
async def get_invite(community: Community, invite: InviteId, nc: Nats) -> Any:
    """The invite, and while it is open the name its inviter goes by in the community ("Ada
    invites you"): the one holding the link was given it by her. A used, revoked or expired
    invite names no one."""
    found = await forward(nc, "identity", "get_invite", {"community": community, "invite": invite})
    found["inviter_name"] = None
    if found.get("status") == "pending" and found.get("inviter"):
        try:
            member = await forward(
                nc, "membership", "member", {"community": community, "member": found["inviter"]}
            )
        except GatewayError:  # not on the roll (a founder before the roll), or membership is down
            return found
        found["inviter_name"] = member.get("name") or None
    return found


@router.post("/invites/{invite}/accept", responses=ERRORS)
async def accept_invite(community: Community, invite: InviteId, body: SignedStatement, nc: Nats) -> Any:
    if body.statement.get("body", {}).get("invite") != invite:
        raise GatewayError(422, "invite_mismatch", "the statement accepts another invite")
    return await forward(
        nc, "identity", "accept_invite", {"community": community, "statement": body.statement}
    )


@router.post("/invites/{invite}/revoke", responses=ERRORS)
async def revoke_invite(
    community: Community, invite: InviteId, body: SignedStatement, member: Member, nc: Nats
) -> Any:
    _signed_by(member.sub, body)
    if body.statement.get("body", {}).get("invite") != invite:
        raise GatewayError(422, "invite_mismatch", "the statement revokes another invite")
    return await forward(
        nc, "identity", "revoke_invite", {"community": community, "statement": body.statement}
    )


@router.get("/me/contacts", responses=ERRORS)
async def my_contacts(community: Community, member: Member, nc: Nats) -> Any:
    return await forward(nc, "identity", "contacts", {"community": community, "member": member.sub})
