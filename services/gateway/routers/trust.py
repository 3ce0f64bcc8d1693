"""Public trust documents of each community: its did:webvh log and its status lists.

`did:webvh:{SCID}:<host>:c:<community>` resolves to `https://<host>/c/<community>/did.jsonl`, the
path the did:webvh spec derives from the DID; credentials name the status lists below.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, PlainTextResponse

from services.gateway.deps import Nats
from services.gateway.errors import ErrorBody
from services.gateway.forward import forward

ORDER = 20
router = APIRouter(tags=["trust"])

Community = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,128}$")]


async def _ask(nc: Nats, name: str, payload: dict[str, Any]) -> Any:
    return await forward(nc, "identity", name, payload)


@router.get(
    "/c/{community}/did.jsonl",
    response_class=PlainTextResponse,
    responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def did_log(community: Community, nc: Nats) -> PlainTextResponse:
    result = await _ask(nc, "did_log", {"community": community})
    return PlainTextResponse(result["log"], media_type="application/jsonl")


@router.get(
    "/c/{community}/status/{purpose}",
    responses={404: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def status_list(
    community: Community,
    purpose: Annotated[str, Path(pattern=r"^(revocation|suspension)$")],
    nc: Nats,
) -> JSONResponse:
    credential = await _ask(nc, "status_list", {"community": community, "purpose": purpose})
    return JSONResponse(credential, media_type="application/vc+json")
