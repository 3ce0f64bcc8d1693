"""NATS command handlers of the messaging service (`messaging.cmd.<name>`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from services.messaging.domain.commands import ArchiveQuery, EmailLink, Query, Signed, VerifyEmail
from services.messaging.handlers import MessagingHandlers
from shared.commands import CommandContext, CommandRouter
from shared.retry import retried

SIGNED_COMMANDS = (
    "compose_announcement",
    "send_announcement",
    "cancel_announcement",
    "set_announcement_public",
    "configure_welcome",
    "mark_announcement_read",
    "subscribe_email",
    "unsubscribe_email",
    "create_category",
    "configure_category",
    "start_thread",
    "reply",
    "edit_post",
    "react",
    "pin_thread",
    "resolve_thread",
    "set_notification_level",
    "set_digest",
    "mark_read",
    "create_conversation",
    "change_members",
    "post_message",
    "moderate",
    "ban",
    "file_appeal",
    "decide_appeal",
)

QUERIES = {
    "inbox": "inbox_of",
    "announcement": "announcement",
    "announcement_stats": "announcement_stats",
    "announcements": "announcements",
    "whoami": "whoami",
    "email_status": "email_status",
    "categories": "categories",
    "threads": "threads",
    "thread": "thread",
    "post_history": "post_history",
    "search": "search",
    "notifications": "notifications",
    "conversations": "conversations",
    "messages": "messages",
    "unread": "unread",
    "moderation_log": "moderation_log",
    "moderation_queue": "moderation_queue",
    "appeals": "appeals_of",
    "typing": "typing",
}


def build_router(handlers: MessagingHandlers) -> CommandRouter:
    router = CommandRouter("messaging")

    def route(name: str, payload: type[msgspec.Struct], handler: Callable[[Any], Awaitable[Any]]) -> None:
        async def handle(command: Any, _: CommandContext) -> Any:
            return await handler(command)

        router.command(name, payload)(handle)

    for name in SIGNED_COMMANDS:  # a save that lost a race is decided again (shared/retry.py)
        route(name, Signed, retried(getattr(handlers, name)))
    for name, method in QUERIES.items():
        route(name, Query, getattr(handlers, method))
    route("verify_email", VerifyEmail, handlers.verify_email)
    route("email_link", EmailLink, handlers.email_link)
    route("archive", ArchiveQuery, handlers.archive)  # public: no member, no session
    route("archived", ArchiveQuery, handlers.archived)
    return router
