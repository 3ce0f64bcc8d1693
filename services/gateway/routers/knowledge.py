"""Know: questions and search over the community's own knowledge, and its document library.

Members only: the session names the asking member, and the knowledge service checks her standing
and roles with membership on every request, so what she is shown follows the community's rules.
Adding, revising and deleting documents carry her signed statement over the file's sha256.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.gateway.auth import Member
from services.gateway.deps import Nats
from services.gateway.errors import GatewayError
from services.gateway.forward import forward
from services.gateway.routers.auth import ERRORS, Community, SignedStatement
from shared.tokens import Claims

ORDER = 70
router = APIRouter(prefix="/c/{community}/know", tags=["knowledge"])
KNOW_ERRORS = ERRORS | dict.fromkeys((403, 413, 415), ERRORS[400])


class Question(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    mode: Literal["auto", "extractive", "generated"] = "auto"
    method: Literal["hybrid", "bm25", "dense"] = "hybrid"
    limit: int = Field(default=5, ge=1, le=20)


class DocumentUpload(BaseModel):
    statement: dict[str, Any] = Field(
        description="signed by the member: action knowledge.add_document (or revise_document), "
        "body {title, filename?, sha256, read_roles?, document?}"
    )
    content: str = Field(max_length=250_000, description="the file, base64-encoded")


def _own(member: Claims, statement: dict[str, Any]) -> None:
    if statement.get("actor") != member.sub:
        raise GatewayError(403, "not_your_statement", "the statement is signed by another member")


@router.post("/ask", responses=KNOW_ERRORS)
async def ask(community: Community, body: Question, member: Member, nc: Nats) -> Any:
    """An answer with citations: quoted passages, or a grounded generated answer if configured."""
    payload = {"community": community, "member": member.sub} | body.model_dump()
    return await forward(nc, "knowledge", "ask", payload)


@router.get("/search", responses=KNOW_ERRORS)
async def search(
    community: Community,
    member: Member,
    nc: Nats,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    method: Annotated[Literal["hybrid", "bm25", "dense"], Query()] = "hybrid",
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Any:
    payload = {"community": community, "member": member.sub, "question": q, "method": method, "limit": limit}
    return await forward(nc, "knowledge", "search", payload)


@router.get("/documents", responses=KNOW_ERRORS)
async def documents(community: Community, member: Member, nc: Nats) -> Any:
    return await forward(nc, "knowledge", "library", {"community": community, "member": member.sub})


@router.post("/documents", responses=KNOW_ERRORS, status_code=201)
async def add_document(community: Community, body: DocumentUpload, member: Member, nc: Nats) -> Any:
    _own(member, body.statement)
    payload = {"community": community, "statement": body.statement, "content": body.content}
    return await forward(nc, "knowledge", "add_document", payload)


@router.post("/documents/revise", responses=KNOW_ERRORS)
async def revise_document(community: Community, body: DocumentUpload, member: Member, nc: Nats) -> Any:
    _own(member, body.statement)
    payload = {"community": community, "statement": body.statement, "content": body.content}
    return await forward(nc, "knowledge", "revise_document", payload)


@router.post("/documents/delete", responses=KNOW_ERRORS)
async def delete_document(community: Community, body: SignedStatement, member: Member, nc: Nats) -> Any:
    _own(member, body.statement)
    return await forward(
        nc, "knowledge", "delete_document", {"community": community, "statement": body.statement}
    )


@router.post("/library", responses=KNOW_ERRORS)
async def configure_library(community: Community, body: SignedStatement, member: Member, nc: Nats) -> Any:
    """Admins: which roles may add documents (`knowledge.configure_library`, body {uploader_roles})."""
    _own(member, body.statement)
    payload = {"community": community, "statement": body.statement}
    return await forward(nc, "knowledge", "configure_library", payload)
