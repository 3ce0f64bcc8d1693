"""Members: a community's profile, the acts of its members and admins, and what members may read.

Acts carry the member's signed statement; the gateway also requires her session (a bearer token
for the same DID), except for applying to join, which a newcomer does before she has one.
Reading the roll, the directory and members' records is for members in good standing only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from services.gateway.auth import Member
from services.gateway.deps import Nats
from services.gateway.errors import GatewayError
from services.gateway.forward import forward
from services.gateway.routers.auth import ERRORS, Community, SignedStatement
from shared.tokens import Claims

ORDER = 50
router = APIRouter(prefix="/c/{community}", tags=["members"])
GOOD_STANDING = ("active", "in_grace")


class Act(StrEnum):
    configure_community = "configure_community"
    archive_community = "archive_community"
    invite = "invite"
    admit = "admit"
    reject = "reject"
    suspend = "suspend"
    reinstate = "reinstate"
    remove = "remove"
    leave = "leave"
    renew = "renew"
    assign_roles = "assign_roles"
    update_profile = "update_profile"
    acknowledge = "acknowledge"
    export_members = "export_members"


class CreateCommunity(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    policy: dict[str, Any] | None = None
    statement: dict[str, Any]


class ImportMembers(BaseModel):
    statement: dict[str, Any]
    csv: str = Field(max_length=200_000)


def _own(member: Claims, statement: dict[str, Any]) -> None:
    if statement.get("actor") != member.sub:
        raise GatewayError(403, "not_your_statement", "the statement is signed by another member")


async def _in_good_standing(nc: Nats, community: str, member: Claims) -> None:
    try:
        record = await forward(nc, "membership", "member", {"community": community, "member": member.sub})
    except GatewayError as exc:
        if exc.status != 404:
            raise
        record = {}
    if record.get("standing") not in GOOD_STANDING:
        raise GatewayError(403, "not_a_member", "only members in good standing may read this")


@router.post("", responses=ERRORS, status_code=201)
async def create_community(community: Community, body: CreateCommunity, member: Member, nc: Nats) -> Any:
    _own(member, body.statement)
    payload: dict[str, Any] = {"slug": community, "name": body.name, "statement": body.statement}
    if body.policy is not None:
        payload["policy"] = body.policy
    return await forward(nc, "membership", "create_community", payload)


@router.get("", responses=ERRORS)
async def get_community(community: Community, nc: Nats) -> Any:
    return await forward(nc, "membership", "get_community", {"community": community})


@router.post("/apply", responses=ERRORS)
async def apply(community: Community, body: SignedStatement, nc: Nats) -> Any:
    return await forward(nc, "membership", "apply", {"community": community, "statement": body.statement})


@router.post("/acts/{act}", responses=ERRORS)
async def act(community: Community, act: Act, body: SignedStatement, member: Member, nc: Nats) -> Any:
    _own(member, body.statement)
    return await forward(nc, "membership", act.value, {"community": community, "statement": body.statement})


@router.post("/import", responses=ERRORS)
async def import_members(community: Community, body: ImportMembers, member: Member, nc: Nats) -> Any:
    _own(member, body.statement)
    payload = {"community": community, "statement": body.statement, "csv": body.csv}
    return await forward(nc, "membership", "import_members", payload)


@router.get("/roll", responses=ERRORS)
async def roll(
    community: Community, member: Member, nc: Nats, at: Annotated[str | None, Query(max_length=40)] = None
) -> Any:
    await _in_good_standing(nc, community, member)
    query: dict[str, Any] = {"community": community} | ({"at": at} if at else {})
    return await forward(nc, "membership", "roll", query)


@router.get("/directory", responses=ERRORS)
async def directory(
    community: Community,
    member: Member,
    nc: Nats,
    text: Annotated[str | None, Query(max_length=200)] = None,
    role: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    await _in_good_standing(nc, community, member)
    filters = {"text": text, "role": role, "status": status, "type": type, "tag": tag}
    query = {"community": community} | {k: v for k, v in filters.items() if v is not None}
    return await forward(nc, "membership", "directory", query)


@router.get("/members/{did}", responses=ERRORS)
async def member_record(
    community: Community, did: Annotated[str, Path(max_length=200)], member: Member, nc: Nats
) -> Any:
    if did != member.sub:
        await _in_good_standing(nc, community, member)
    return await forward(nc, "membership", "member", {"community": community, "member": did})
