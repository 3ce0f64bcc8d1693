"""Live updates as Server-Sent Events: `GET /c/<community>/live`, one stream per signed-in member.

The messaging service publishes a small notice on `messaging.live.<community>` after each commit
(what changed and who may see it, never the content). The gateway forwards to each member only the
notices meant for her: her own conversations and inbox, categories her roles may read, and flags
and appeals when she moderates. Governance's notices (`governance.notice.<community>`: a poll
opened, a reminder, a trustee's turn, a result) name their `recipients`; each goes to those members
only, and without the list (a reminder's list is who has not voted). Governance's live-only notices
(`governance.live.<community>`, stored in no stream: `ballot_cast` with the poll, voter, who cast it
and the turnout, so an open poll's board redraws as members vote) go to every member, as any member
may read any poll's board. Her standing is checked when the stream opens and every minute; a member
who is suspended or leaves stops receiving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from services.gateway.auth import Member
from services.gateway.deps import Nats
from services.gateway.errors import GatewayError
from services.gateway.forward import forward
from services.gateway.routers.auth import ERRORS, Community
from shared.natsclient import settled

ORDER = 61
router = APIRouter(prefix="/c/{community}", tags=["live updates"])
HEARTBEAT_S = 15.0
RECHECK_S = 60.0
LIFETIME_S = 30 * 60.0  # then the stream ends and the client opens it again (standing is checked anew)
RETRY_MS = 3000
QUEUE = 256  # notices a slow reader may fall behind by before the oldest are dropped


def may_see(notice: dict[str, Any], me: dict[str, Any]) -> bool:
    """Whether a notice is meant for this member (the content itself is fetched through the gated API)."""
    roles = set(me.get("roles", ()))
    if me.get("moderator") and notice.get("moderators"):
        return True
    if notice.get("moderators"):
        return False
    if "members" in notice:
        return me["member"] in notice["members"]
    read_roles = set(notice.get("read_roles") or ())
    if read_roles and not (read_roles & roles) and not me.get("moderator"):
        return False
    audience = notice.get("audience")
    if isinstance(audience, dict):
        wanted_roles, types, tags = (set(audience.get(k) or ()) for k in ("roles", "types", "tags"))
        return (
            (not wanted_roles or bool(wanted_roles & roles))
            and (not types or me.get("type") in types)
            and (not tags or bool(tags & set(me.get("tags", ()))))
        )
    return True


def from_governance(notice: dict[str, Any]) -> dict[str, Any] | None:
    """A governance notice as the stream carries it: for its `recipients` (kept aside as `members`
    for may_see, never sent), marked with its service. None when it names no recipients."""
    recipients = notice.get("recipients")
    if not isinstance(recipients, list):
        return None
    fields = {k: v for k, v in notice.items() if k not in ("recipients", "members", "moderators")}
    return fields | {"service": "governance", "members": [r for r in recipients if isinstance(r, str)]}


def from_governance_live(notice: dict[str, Any]) -> dict[str, Any]:
    """A governance live notice (what every member's screen may show: a ballot on a poll's public
    board): for every member of the community, marked with its service. Any audience keys it might
    carry are dropped, so may_see lets it through to every member."""
    fields = {k: v for k, v in notice.items() if k not in ("recipients", "members", "moderators")}
    return fields | {"service": "governance"}


def shown(notice: dict[str, Any]) -> dict[str, Any]:
    """What the member receives: a governance notice loses its recipient list."""
    if notice.get("service") == "governance":
        return {k: v for k, v in notice.items() if k != "members"}
    return notice


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def _stream(
    request: Request, nc: NATS, community: str, member: str, me: dict[str, Any]
) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE)

    async def on_notice(msg: Msg) -> None:
        try:
            notice = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(notice, dict) and msg.subject.startswith("governance.live."):
            notice = from_governance_live(notice)
        elif isinstance(notice, dict) and msg.subject.startswith("governance."):
            notice = from_governance(notice)
        if isinstance(notice, dict):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(notice)

    sub = await nc.subscribe(f"messaging.live.{community}", cb=on_notice)
    governance = await nc.subscribe(f"governance.notice.{community}", cb=on_notice)
    governance_live = await nc.subscribe(f"governance.live.{community}", cb=on_notice)
    await settled(nc)  # the server has the subscriptions: `ready` means nothing published from now is missed
    opened = checked = time.monotonic()
    try:
        yield f"retry: {RETRY_MS}\n".encode() + _event("ready", {"community": community, "member": member})
        while not await request.is_disconnected() and time.monotonic() - opened < LIFETIME_S:
            try:
                notice = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
            except TimeoutError:
                yield b": keep-alive\n\n"
                notice = None
            if time.monotonic() - checked > RECHECK_S:
                checked = time.monotonic()
                try:
                    me = await forward(nc, "messaging", "whoami", {"community": community, "member": member})
                except GatewayError as exc:
                    yield _event("closed", {"reason": exc.type})
                    return
            if notice is not None and may_see(notice, me):
                yield _event(str(notice.get("kind", "update")), shown(notice))
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
        with contextlib.suppress(Exception):
            await governance.unsubscribe()
        with contextlib.suppress(Exception):
            await governance_live.unsubscribe()


# Not in the OpenAPI document: an endless text/event-stream is not an operation a schema-driven
# client can call and finish (it is described in services/messaging/README.md).
@router.get("/live", responses=ERRORS, response_class=StreamingResponse, include_in_schema=False)
async def live(community: Community, member: Member, request: Request, nc: Nats) -> StreamingResponse:
    """Server-Sent Events: `ready`, then one event per notice meant for the member (kind = event name)."""
    me = await forward(nc, "messaging", "whoami", {"community": community, "member": member.sub})
    return StreamingResponse(
        _stream(request, nc, community, member.sub, me),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
