"""The transparency log over HTTP: a community's checkpoints and the proofs that check them.

Checkpoints and consistency proofs are hashes and signatures only, readable by anyone who wants to
watch the log; an inclusion proof says which commit sits where, so it is for members in good
standing of that community.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.gateway.auth import Member
from services.gateway.deps import Nats
from services.gateway.errors import GatewayError
from services.gateway.forward import forward
from services.gateway.routers.auth import ERRORS, Community
from shared.tokens import Claims
from shared.transparency.layout import COMMANDS, LOGGED_STREAMS

ORDER = 80
router = APIRouter(prefix="/c/{community}/transparency", tags=["transparency"])


class Stream(StrEnum):
    identity = "identity"
    membership = "membership"
    messaging = "messaging"
    governance = "governance"
    knowledge = "knowledge"
    social = "social"


assert {s.value.upper() for s in Stream} == set(LOGGED_STREAMS)
GOOD_STANDING = ("active", "in_grace")


async def _member_in_good_standing(nc: Nats, community: str, member: Claims) -> None:
    try:
        record = await forward(nc, "membership", "member", {"community": community, "member": member.sub})
    except GatewayError as exc:
        if exc.status == 404:
            raise GatewayError(403, "not_a_member", "only members in good standing may read this") from exc
        raise
    if record.get("standing") not in GOOD_STANDING:
        raise GatewayError(403, "not_a_member", "only members in good standing may read this")


@router.get("/{stream}/checkpoint", responses=ERRORS)
async def checkpoint(community: Community, stream: Stream, nc: Nats) -> Any:
    """The newest signed checkpoint of the community's log of `stream` and the key that signed it."""
    return await forward(nc, COMMANDS, "latest", {"community": community, "stream": stream.value})


@router.get("/{stream}/consistency", responses=ERRORS)
async def consistency(
    community: Community,
    stream: Stream,
    nc: Nats,
    old_size: Annotated[int, Query(ge=1)],
    new_size: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    """An RFC 9162 consistency proof from tree size `old_size` to `new_size` (default: newest checkpoint)."""
    payload: dict[str, Any] = {"community": community, "stream": stream.value, "old_size": old_size}
    if new_size is not None:
        payload["new_size"] = new_size
    return await forward(nc, COMMANDS, "consistency", payload)


@router.get("/{stream}/inclusion", responses=ERRORS)
async def inclusion(
    community: Community,
    stream: Stream,
    member: Member,
    nc: Nats,
    position: Annotated[int | None, Query(ge=0)] = None,
    sequence: Annotated[int | None, Query(ge=1)] = None,
    commit_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    size: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    """An RFC 9162 inclusion proof of one commit (by position, stream sequence or commit id)."""
    await _member_in_good_standing(nc, community, member)
    given = {"position": position, "sequence": sequence, "commit_id": commit_id}
    chosen = {k: v for k, v in given.items() if v is not None}
    if len(chosen) != 1:
        raise GatewayError(422, "invalid_request", "give exactly one of position, sequence, commit_id")
    payload: dict[str, Any] = {"community": community, "stream": stream.value, **chosen}
    if size is not None:
        payload["size"] = size
    return await forward(nc, COMMANDS, "inclusion", payload)
