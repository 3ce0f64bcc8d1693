"""NATS command handlers of the governance service (`governance.cmd.<name>`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from services.governance.domain.commands import (
    CommunityQuery,
    MemberPollsQuery,
    MemberQuery,
    PollQuery,
    Signed,
)
from services.governance.handlers import GovernanceHandlers
from shared.commands import CommandContext, CommandRouter
from shared.retry import retried

SIGNED_COMMANDS = (
    "configure_settings",
    "create_poll",
    "commit_trustee",
    "complain_share",
    "reveal_share",
    "cast_ballot",
    "close_poll",
    "extend_poll",
    "submit_partial_decryption",
    "state_outcome",
    "delegate",
    "revoke_delegation",
)


def build_router(handlers: GovernanceHandlers) -> CommandRouter:
    router = CommandRouter("governance")

    def route(name: str, payload: type[msgspec.Struct], handler: Callable[[Any], Awaitable[Any]]) -> None:
        async def handle(command: Any, _: CommandContext) -> Any:
            return await handler(command)

        router.command(name, payload)(handle)

    for name in SIGNED_COMMANDS:  # a save that lost a race is decided again (shared/retry.py)
        route(name, Signed, retried(getattr(handlers, name)))
    route("get_poll", PollQuery, handlers.get_poll)
    route("list_polls", CommunityQuery, handlers.list_polls)
    route("results", PollQuery, handlers.results)
    route("board", PollQuery, handlers.board)
    route("delegations", MemberQuery, handlers.delegations_of)
    route("member_polls", MemberPollsQuery, handlers.member_polls)  # for summaries by email
    return router
