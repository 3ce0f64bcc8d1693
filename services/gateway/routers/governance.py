"""Decide: polls, ballots, proxies and results of a community, for its members.

Acts carry the member's signed statement (action `governance.<command>`) and need her session (a
bearer token for the same DID); the governance service checks the signature, the roll and the rules.
Reading polls, results and the ballot board is for members in good standing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request, Response

from services.gateway.auth import Member
from services.gateway.deps import Nats
from services.gateway.errors import GatewayError
from services.gateway.forward import forward
from services.gateway.routers.auth import ERRORS, Community, SignedStatement
from shared.calendar import poll_meeting_ics
from shared.tokens import Claims

ORDER = 60
router = APIRouter(prefix="/c/{community}", tags=["decide"])
Poll = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,128}$")]
GOOD_STANDING = ("active", "in_grace")


class PollAct(StrEnum):
    close = "close_poll"
    extend = "extend_poll"
    commit_trustee = "commit_trustee"
    complain_share = "complain_share"
    reveal_share = "reveal_share"
    partial_decryption = "submit_partial_decryption"
    outcome = "state_outcome"


def _own(member: Claims, statement: dict[str, Any]) -> None:
    if statement.get("actor") != member.sub:
        raise GatewayError(403, "not_your_statement", "the statement is signed by another member")


def _about(poll: str, statement: dict[str, Any]) -> None:
    body = statement.get("body")
    if not isinstance(body, dict) or body.get("poll") != poll:
        raise GatewayError(422, "poll_mismatch", f"the signed statement is not about poll {poll!r}")


async def _in_good_standing(nc: Nats, community: str, member: Claims) -> None:
    try:
        record = await forward(nc, "membership", "member", {"community": community, "member": member.sub})
    except GatewayError as exc:
        if exc.status != 404:
            raise
        record = {}
    if record.get("standing") not in GOOD_STANDING:
        raise GatewayError(403, "not_a_member", "only members in good standing may read this")


async def _signed(nc: Nats, command: str, community: str, member: Claims, body: SignedStatement) -> Any:
    _own(member, body.statement)
    return await forward(nc, "governance", command, {"community": community, "statement": body.statement})


@router.get("/polls", responses=ERRORS)
async def list_polls(
    community: Community,
    member: Member,
    nc: Nats,
    thread: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="only the polls discussed in this thread"),
    ] = None,
) -> Any:
    """The community's polls, each with its `discussion` link; with `thread`, only the polls whose
    link is that thread's in the app (`#/forums?thread=<id>`)."""
    await _in_good_standing(nc, community, member)
    query: dict[str, Any] = {"community": community}
    if thread is not None:
        query["thread"] = thread
    return await forward(nc, "governance", "list_polls", query)


@router.post("/polls", responses=ERRORS, status_code=201)
async def create_poll(community: Community, body: SignedStatement, member: Member, nc: Nats) -> Any:
    return await _signed(nc, "create_poll", community, member, body)


@router.get("/polls/{poll}", responses=ERRORS)
async def get_poll(community: Community, poll: Poll, member: Member, nc: Nats) -> Any:
    await _in_good_standing(nc, community, member)
    return await forward(nc, "governance", "get_poll", {"community": community, "poll": poll})


@router.get("/polls/{poll}/results", responses=ERRORS)
async def results(community: Community, poll: Poll, member: Member, nc: Nats) -> Any:
    await _in_good_standing(nc, community, member)
    return await forward(nc, "governance", "results", {"community": community, "poll": poll})


@router.get("/polls/{poll}/board", responses=ERRORS)
async def board(community: Community, poll: Poll, member: Member, nc: Nats) -> Any:
    """The public ballot board: open choices, or encrypted ballots with the trackers voters look for."""
    await _in_good_standing(nc, community, member)
    return await forward(nc, "governance", "board", {"community": community, "poll": poll})


@router.get(
    "/polls/{poll}/meeting.ics",
    responses=ERRORS | {200: {"content": {"text/calendar": {}}, "description": "the meeting, for calendars"}},
    response_class=Response,
)
async def meeting_calendar(
    community: Community, poll: Poll, member: Member, nc: Nats, request: Request
) -> Any:
    """The meeting a meeting poll's outcome fixed, as an iCalendar file (RFC 5545) to add to a calendar."""
    await _in_good_standing(nc, community, member)
    view = await forward(nc, "governance", "get_poll", {"community": community, "poll": poll})
    meeting = view.get("meeting")
    if not meeting:
        raise GatewayError(404, "no_meeting_time", "this poll's outcome has not fixed a meeting time")
    base = str(request.base_url).rstrip("/")
    link = f"{base}/app/#/polls?" + urlencode({"poll": poll, "c": community})
    title = view["spec"]["title"]
    body = poll_meeting_ics(
        meeting, community=community, poll=poll, host=request.url.hostname or "", title=title,
        outcome=view.get("outcome") or "", link=link,
    )  # fmt: skip
    name = quote(f"{title[:80]}.ics")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.post("/polls/{poll}/ballots", responses=ERRORS)
async def cast_ballot(
    community: Community, poll: Poll, body: SignedStatement, member: Member, nc: Nats
) -> Any:
    _about(poll, body.statement)
    return await _signed(nc, "cast_ballot", community, member, body)


@router.post("/polls/{poll}/acts/{act}", responses=ERRORS)
async def poll_act(
    community: Community, poll: Poll, act: PollAct, body: SignedStatement, member: Member, nc: Nats
) -> Any:
    _about(poll, body.statement)
    return await _signed(nc, act.value, community, member, body)


@router.post("/delegations", responses=ERRORS, status_code=201)
async def delegate(community: Community, body: SignedStatement, member: Member, nc: Nats) -> Any:
    return await _signed(nc, "delegate", community, member, body)


@router.get("/delegations", responses=ERRORS)
async def my_delegations(community: Community, member: Member, nc: Nats) -> Any:
    return await forward(nc, "governance", "delegations", {"community": community, "member": member.sub})


@router.post("/delegations/{delegation}/revoke", responses=ERRORS)
async def revoke_delegation(
    community: Community,
    delegation: Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,128}$")],
    body: SignedStatement,
    member: Member,
    nc: Nats,
) -> Any:
    signed_body = body.statement.get("body")
    if not isinstance(signed_body, dict) or signed_body.get("delegation") != delegation:
        raise GatewayError(422, "delegation_mismatch", "the signed statement names another delegation")
    return await _signed(nc, "revoke_delegation", community, member, body)


@router.put("/governance/settings", responses=ERRORS)
async def configure_settings(community: Community, body: SignedStatement, member: Member, nc: Nats) -> Any:
    return await _signed(nc, "configure_settings", community, member, body)
