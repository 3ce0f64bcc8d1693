"""NATS command handlers of the membership service (`membership.cmd.<name>`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from services.membership.domain.commands import (
    CommunitiesQuery,
    CommunityQuery,
    CreateCommunity,
    DirectoryQuery,
    ImportMembers,
    MemberQuery,
    RollQuery,
    Signed,
    SnapshotQuery,
)
from services.membership.handlers import MembershipHandlers
from shared.commands import CommandContext, CommandRouter
from shared.retry import retried

SIGNED_COMMANDS = (
    "configure_community",
    "archive_community",
    "invite",
    "apply",
    "admit",
    "reject",
    "suspend",
    "reinstate",
    "remove",
    "leave",
    "renew",
    "assign_roles",
    "update_profile",
    "acknowledge",
    "export_members",
)


def build_router(handlers: MembershipHandlers) -> CommandRouter:
    router = CommandRouter("membership")

    def route(
        name: str, payload: type[msgspec.Struct], handler: Callable[[Any], Awaitable[Any]], retry: bool = True
    ) -> None:
        run = retried(handler) if retry else handler

        async def handle(command: Any, _: CommandContext) -> Any:
            return await run(command)

        router.command(name, payload)(handle)

    for name in SIGNED_COMMANDS:
        route(name, Signed, getattr(handlers, name))
    route("create_community", CreateCommunity, handlers.create_community)
    # A bulk import saves row by row and reports each row's outcome itself: never run twice.
    route("import_members", ImportMembers, handlers.import_members, retry=False)

    async def get_community(query: CommunityQuery) -> Any:
        return await handlers.get_community(query.community)

    route("get_community", CommunityQuery, get_community)
    route("communities", CommunitiesQuery, handlers.list_communities)
    route("roll", RollQuery, handlers.roll_at)
    route("snapshot_roll", RollQuery, handlers.snapshot_roll)
    route("get_snapshot", SnapshotQuery, handlers.get_snapshot)
    route("directory", DirectoryQuery, handlers.directory_search)
    route("member", MemberQuery, handlers.member)
    route("audit", MemberQuery, handlers.audit_trail)
    return router
