"""NATS command handlers of the social service (`social.cmd.<name>`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from services.social.domain.commands import (
    CommentsQuery,
    DefinitionQuery,
    FeedQuery,
    MemberQuery,
    PostQuery,
    PostsQuery,
    Signed,
)
from services.social.handlers import SocialHandlers
from shared.commands import CommandContext, CommandRouter
from shared.retry import retried

SIGNED_COMMANDS = (
    "publish_post",
    "revise_post",
    "withdraw_post",
    "comment",
    "remove_comment",
    "follow",
    "unfollow",
    "configure_feed",
    "propose_introduction",
    "answer_introduction",
    "retry_introduction_chat",
    "leave_introduction",
    "rate_introduction",
    "record_relationship",
    "vault_store",
    "vault_delete",
    "vault_list",
    "vault_get",
)


class IntroductionQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str
    introduction: str


def build_router(handlers: SocialHandlers) -> CommandRouter:
    router = CommandRouter("social")

    def route(name: str, payload: type[msgspec.Struct], handler: Callable[[Any], Awaitable[Any]]) -> None:
        async def handle(command: Any, _: CommandContext) -> Any:
            return await handler(command)

        router.command(name, payload)(handle)

    for name in SIGNED_COMMANDS:  # a save that lost a race is decided again (shared/retry.py)
        route(name, Signed, retried(getattr(handlers, name)))
    route("posts", PostsQuery, handlers.list_posts)
    route("post", PostQuery, handlers.get_post)
    route("comments", CommentsQuery, handlers.list_comments)
    route("feed", FeedQuery, handlers.feed)
    route("export_feed", MemberQuery, handlers.export_feed)
    route("feed_definition", DefinitionQuery, handlers.shared_definition)
    route("network", MemberQuery, handlers.network_of)

    async def introduction(query: IntroductionQuery) -> Any:
        return await handlers.get_introduction(MemberQuery(query.community, query.member), query.introduction)

    route("introduction", IntroductionQuery, introduction)
    return router
