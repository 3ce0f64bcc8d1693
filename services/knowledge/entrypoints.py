"""NATS command handlers of the knowledge service (`knowledge.cmd.<name>`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from services.knowledge.domain.commands import Ask, LibraryQuery, Signed, Upload
from services.knowledge.handlers import KnowledgeHandlers
from shared.commands import CommandContext, CommandRouter


def build_router(handlers: KnowledgeHandlers) -> CommandRouter:
    router = CommandRouter("knowledge")

    def route(name: str, payload: type[msgspec.Struct], handler: Callable[[Any], Awaitable[Any]]) -> None:
        async def handle(command: Any, _: CommandContext) -> Any:
            return await handler(command)

        router.command(name, payload)(handle)

    route("ask", Ask, handlers.ask)
    route("search", Ask, handlers.search)
    route("library", LibraryQuery, handlers.library)
    route("configure_library", Signed, handlers.configure_library)
    route("add_document", Upload, handlers.add_document)
    route("revise_document", Upload, handlers.revise_document)
    route("delete_document", Signed, handlers.delete_document)
    return router
