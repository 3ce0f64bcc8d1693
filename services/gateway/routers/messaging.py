"""Communicate and Discuss: members' acts (signed statements) and what they read, gated by membership.

Acts carry the member's signed statement and her session (a bearer token for the same DID); the
messaging service checks the statement and her standing. Reads name the signed-in member, and the
service answers only what she may see. Following an email verification link needs no session:
the link's secret proves the address. The public archive of announcements (no session at all) is
in `messaging_archive.py`.
"""

from __future__ import annotations

from enum import StrEnum
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from nats.aio.client import Client as NATS
from pydantic import BaseModel, Field

from services.gateway.auth import Member
from services.gateway.deps import Nats
from services.gateway.errors import GatewayError
from services.gateway.forward import forward
from services.gateway.routers.auth import ERRORS, Community, SignedStatement
from shared.tokens import Claims

ORDER = 60
router = APIRouter(prefix="/c/{community}/messaging", tags=["communicate and discuss"])
Ident = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
Limit = Annotated[int, Query(ge=1, le=500)]


class Act(StrEnum):
    compose_announcement = "compose_announcement"
    send_announcement = "send_announcement"
    cancel_announcement = "cancel_announcement"
    set_announcement_public = "set_announcement_public"
    configure_welcome = "configure_welcome"
    mark_announcement_read = "mark_announcement_read"
    subscribe_email = "subscribe_email"
    unsubscribe_email = "unsubscribe_email"
    create_category = "create_category"
    configure_category = "configure_category"
    start_thread = "start_thread"
    reply = "reply"
    edit_post = "edit_post"
    react = "react"
    pin_thread = "pin_thread"
    resolve_thread = "resolve_thread"
    set_notification_level = "set_notification_level"
    set_digest = "set_digest"
    mark_read = "mark_read"
    create_conversation = "create_conversation"
    change_members = "change_members"
    post_message = "post_message"
    moderate = "moderate"
    ban = "ban"
    file_appeal = "file_appeal"
    decide_appeal = "decide_appeal"


class Verification(BaseModel):
    status: str = Field(description="verified")
    email: str


async def _ask(nc: Nats, name: str, community: str, member: Claims, **fields: Any) -> Any:
    query = {"community": community, "member": member.sub} | {
        k: v for k, v in fields.items() if v is not None
    }
    return await forward(nc, "messaging", name, query)


@router.post("/acts/{act}", responses=ERRORS)
async def act(community: Community, act: Act, body: SignedStatement, member: Member, nc: Nats) -> Any:
    if body.statement.get("actor") != member.sub:
        raise GatewayError(403, "not_your_statement", "the statement is signed by another member")
    return await forward(nc, "messaging", act.value, {"community": community, "statement": body.statement})


@router.get("/email/verify", responses=ERRORS, response_model=Verification)
async def verify_email(
    request: Request,
    community: Community,
    nc: Nats,
    member: Annotated[str, Query(min_length=8, max_length=200)],
    token: Annotated[str, Query(min_length=16, max_length=200)],
) -> Any:
    """JSON for programs; a short page for a person who opened the link from her mail."""
    person = "text/html" in request.headers.get("accept", "")
    try:
        result = await forward(
            nc, "messaging", "verify_email", {"community": community, "member": member, "token": token}
        )
    except GatewayError as error:
        if not person:
            raise
        return _page(error.status, "This link did not work", f"{error.message}. Nothing was changed.")
    if person:
        said = f"Announcements of {community} will also come to {result['email']}."
        return _page(200, "Your address is confirmed", f"{said} You can stop them in the app at any time.")
    return Verification(**result)


class Unsubscription(BaseModel):
    status: str = Field(description="subscribed (the link is good; nothing changed yet) or unsubscribed")
    email: str = Field(description="the address the link was mailed to, masked")
    name: str = Field(description="the community's name")
    changed: bool = Field(description="whether this request stopped the mail (false: it had stopped)")


Token = Annotated[str, Query(min_length=16, max_length=200)]
MemberDid = Annotated[str, Query(min_length=8, max_length=200)]


@router.get("/email/unsubscribe", responses=ERRORS, response_model=Unsubscription)
async def unsubscribe_page(
    request: Request, community: Community, nc: Nats, member: MemberDid, token: Token
) -> Any:
    """The link in every mail's `List-Unsubscribe` header and foot. Opening it changes nothing
    (mail scanners and link previews open links): a person gets a page with one button, a
    program the link's state as JSON. Posting to it stops the mail."""
    return await _email_link(request, nc, community, member, token, confirm=False)


@router.post("/email/unsubscribe", responses=ERRORS, response_model=Unsubscription)
async def unsubscribe(
    request: Request, community: Community, nc: Nats, member: MemberDid, token: Token
) -> Any:
    """RFC 8058 one-click: a mail program posts `List-Unsubscribe=One-Click` here (the body is not
    needed: the link's secret is the proof), or a person presses the page's button. Stops all mail
    from the community to the address the link was mailed to; posting again changes nothing."""
    return await _email_link(request, nc, community, member, token, confirm=True)


async def _email_link(
    request: Request, nc: NATS, community: str, member: str, token: str, *, confirm: bool
) -> Any:
    person = "text/html" in request.headers.get("accept", "")
    query = {"community": community, "member": member, "token": token, "confirm": confirm}
    try:
        result = await forward(nc, "messaging", "email_link", query)
    except GatewayError as error:
        if not person:
            raise
        return _page(error.status, "This link did not work", f"{error.message}. Nothing was changed.")
    if not person:
        return Unsubscription(**result)
    name, email = result["name"], result["email"]
    if result["status"] == "unsubscribed":
        again = " To receive it again, ask for it in the app (Communicate, then Email)." if confirm else ""
        return _page(200, "No more email", f"{name} sends no more email to {email}.{again}")
    button = (
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit" style="font: inherit; padding: .5rem 1rem">Stop all email from '
        f"{escape(name)}</button></form>"
    )
    text = (
        f"Announcements, poll notices, forum and chat notices and summaries from {name} come to "
        f"{email}. You can still read everything in the app."
    )
    return _page(200, "Stop email?", text, more=button)


def _page(status: int, title: str, text: str, more: str = "") -> HTMLResponse:
    """A short page for a person who followed a link from her mail. `more` is trusted markup."""
    body = (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f'<title>{escape(title)}</title><body style="font-family: system-ui, sans-serif; max-width: 36rem; '
        f'margin: 3rem auto; padding: 0 1rem"><h1>{escape(title)}</h1><p>{escape(text)}</p>{more}'
        "</body></html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/me", responses=ERRORS)
async def me(community: Community, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "whoami", community, member)


@router.get("/email", responses=ERRORS)
async def email_status(community: Community, member: Member, nc: Nats) -> Any:
    """Her email opt-in: verified address, one awaiting its link, and whether email is sent here."""
    return await _ask(nc, "email_status", community, member)


@router.get("/inbox", responses=ERRORS)
async def inbox(community: Community, member: Member, nc: Nats, limit: Limit = 50) -> Any:
    return await _ask(nc, "inbox", community, member, limit=limit)


@router.get("/inbox/{announcement}", responses=ERRORS)
async def announcement(community: Community, announcement: Ident, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "announcement", community, member, announcement=announcement)


@router.get("/announcements", responses=ERRORS)
async def pending_announcements(community: Community, member: Member, nc: Nats, limit: Limit = 50) -> Any:
    """For admins: drafts and scheduled announcements, and the sent ones with their figures."""
    return await _ask(nc, "announcements", community, member, limit=limit)


@router.get("/announcements/{announcement}/stats", responses=ERRORS)
async def announcement_stats(community: Community, announcement: Ident, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "announcement_stats", community, member, announcement=announcement)


@router.get("/categories", responses=ERRORS)
async def categories(community: Community, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "categories", community, member)


@router.get("/categories/{category}/threads", responses=ERRORS)
async def threads(community: Community, category: Ident, member: Member, nc: Nats, limit: Limit = 50) -> Any:
    return await _ask(nc, "threads", community, member, category=category, limit=limit)


@router.get("/threads/{thread}", responses=ERRORS)
async def thread(community: Community, thread: Ident, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "thread", community, member, thread=thread)


@router.get("/posts/{post}/history", responses=ERRORS)
async def post_history(community: Community, post: Ident, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "post_history", community, member, post=post)


@router.get("/search", responses=ERRORS)
async def search(
    community: Community,
    member: Member,
    nc: Nats,
    text: Annotated[str, Query(min_length=1, max_length=200)],
    category: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_\-]{1,64}$")] = None,
    limit: Limit = 50,
) -> Any:
    return await _ask(nc, "search", community, member, text=text, category=category, limit=limit)


@router.get("/notifications", responses=ERRORS)
async def notifications(community: Community, member: Member, nc: Nats, limit: Limit = 50) -> Any:
    return await _ask(nc, "notifications", community, member, limit=limit)


@router.get("/unread", responses=ERRORS)
async def unread(community: Community, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "unread", community, member)


@router.get("/conversations", responses=ERRORS)
async def conversations(community: Community, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "conversations", community, member)


@router.get("/conversations/{conversation}/messages", responses=ERRORS)
async def messages(
    community: Community,
    conversation: Ident,
    member: Member,
    nc: Nats,
    thread: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_\-]{1,64}$")] = None,
    limit: Limit = 100,
) -> Any:
    return await _ask(
        nc, "messages", community, member, conversation=conversation, thread=thread, limit=limit
    )


@router.post("/conversations/{conversation}/typing", responses=ERRORS)
async def typing(community: Community, conversation: Ident, member: Member, nc: Nats) -> Any:
    """An ephemeral typing notice to the conversation's readers (nothing is recorded)."""
    return await _ask(nc, "typing", community, member, conversation=conversation)


@router.get("/moderation/log", responses=ERRORS)
async def moderation_log(community: Community, member: Member, nc: Nats, limit: Limit = 100) -> Any:
    return await _ask(nc, "moderation_log", community, member, limit=limit)


@router.get("/moderation/queue", responses=ERRORS)
async def moderation_queue(community: Community, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "moderation_queue", community, member)


@router.get("/appeals", responses=ERRORS)
async def appeals(community: Community, member: Member, nc: Nats) -> Any:
    return await _ask(nc, "appeals", community, member)
