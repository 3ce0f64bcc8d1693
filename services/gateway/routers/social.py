"""PLANET social: public signed blog posts, members' acts (posts, follows, feeds, introductions, vault),
her feed and her network.

Anyone reads a community's published posts and gets each post's signed document to verify
(no sign-in). Every act carries the member's signed statement and needs her session for the
same DID; the social service checks her membership. Feeds, comments and the network are for
members in good standing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.gateway.auth import Member
from services.gateway.deps import Nats
from services.gateway.errors import ErrorBody, GatewayError
from services.gateway.forward import forward
from services.gateway.routers.auth import ERRORS, Community, SignedStatement

ORDER = 70
router = APIRouter(prefix="/c/{community}", tags=["social"])
Ident = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,128}$")]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[int | None, Query(ge=0)]
# 403: not a member, or not her statement; 410: a withdrawn post
SOCIAL_ERRORS: dict[int | str, dict[str, Any]] = ERRORS | {code: {"model": ErrorBody} for code in (403, 410)}


class SocialAct(StrEnum):
    publish_post = "publish_post"
    revise_post = "revise_post"
    withdraw_post = "withdraw_post"
    comment = "comment"
    remove_comment = "remove_comment"
    follow = "follow"
    unfollow = "unfollow"
    configure_feed = "configure_feed"
    propose_introduction = "propose_introduction"
    answer_introduction = "answer_introduction"
    retry_introduction_chat = "retry_introduction_chat"
    leave_introduction = "leave_introduction"
    rate_introduction = "rate_introduction"
    record_relationship = "record_relationship"
    vault_store = "vault_store"
    vault_delete = "vault_delete"
    vault_list = "vault_list"
    vault_get = "vault_get"


def _own(member: str, statement: dict[str, Any]) -> None:
    if statement.get("actor") != member:
        raise GatewayError(403, "not_your_statement", "the statement is signed by another member")


# -- public -------------------------------------------------------------------------------------


@router.get("/blog", responses=SOCIAL_ERRORS)
async def list_posts(
    community: Community,
    nc: Nats,
    author: Annotated[str | None, Query(max_length=200)] = None,
    hashtag: Annotated[str | None, Query(max_length=65)] = None,
    limit: Limit = 50,
    before: Cursor = None,
) -> Any:
    query = {"community": community, "author": author, "hashtag": hashtag, "limit": limit, "before": before}
    return await forward(nc, "social", "posts", {k: v for k, v in query.items() if v is not None})


@router.get("/blog/{post}", responses=SOCIAL_ERRORS)
async def get_post(community: Community, post: Ident, nc: Nats) -> Any:
    return await forward(nc, "social", "post", {"community": community, "post": post})


@router.get("/blog/{post}/document", responses=SOCIAL_ERRORS)
async def post_document(community: Community, post: Ident, nc: Nats) -> Any:
    """The author's signed BlogPostingCredential alone: save it and run `cos vc verify` on it."""
    found = await forward(nc, "social", "post", {"community": community, "post": post})
    return found["document"]


# -- members ------------------------------------------------------------------------------------


@router.post("/social/{act}", responses=SOCIAL_ERRORS)
async def social_act(
    community: Community, act: SocialAct, body: SignedStatement, member: Member, nc: Nats
) -> Any:
    _own(member.sub, body.statement)
    return await forward(nc, "social", act.value, {"community": community, "statement": body.statement})


@router.get("/blog/{post}/comments", responses=SOCIAL_ERRORS)
async def comments(community: Community, post: Ident, member: Member, nc: Nats) -> Any:
    return await forward(
        nc, "social", "comments", {"community": community, "post": post, "member": member.sub}
    )


@router.get("/me/feed", responses=SOCIAL_ERRORS)
async def my_feed(
    community: Community, member: Member, nc: Nats, limit: Limit = 50, before: Cursor = None
) -> Any:
    query: dict[str, Any] = {"community": community, "member": member.sub, "limit": limit}
    return await forward(nc, "social", "feed", query | ({"before": before} if before is not None else {}))


@router.get("/me/feed/definition", responses=SOCIAL_ERRORS)
async def my_feed_definition(community: Community, member: Member, nc: Nats) -> Any:
    """Her feed definition, shareable: another member imports it with `configure_feed`."""
    return await forward(nc, "social", "export_feed", {"community": community, "member": member.sub})


@router.get("/feeds/{owner}", responses=SOCIAL_ERRORS)
async def shared_feed_definition(
    community: Community, owner: Annotated[str, Path(max_length=200)], member: Member, nc: Nats
) -> Any:
    """Another member's feed definition, when she shares it: adopt it with `configure_feed`."""
    query = {"community": community, "member": member.sub, "owner": owner}
    return await forward(nc, "social", "feed_definition", query)


@router.get("/me/network", responses=SOCIAL_ERRORS)
async def my_network(community: Community, member: Member, nc: Nats) -> Any:
    """Her trust network, with the invites she sent or accepted (pending → connected) beside it."""
    network = await forward(nc, "social", "network", {"community": community, "member": member.sub})
    try:
        invites = await forward(nc, "identity", "contacts", {"community": community, "member": member.sub})
    except GatewayError as exc:
        if exc.status < 500:
            raise
        invites = None  # identity is down: the network still answers, without invites
    return network | {"invites": invites}


@router.get("/introductions/{introduction}", responses=SOCIAL_ERRORS)
async def introduction(community: Community, introduction: Ident, member: Member, nc: Nats) -> Any:
    query = {"community": community, "member": member.sub, "introduction": introduction}
    return await forward(nc, "social", "introduction", query)
