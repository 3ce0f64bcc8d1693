"""Opening an introduction's group chat: the port and its adapter calling messaging over NATS.

A chat is a member's act in messaging (`messaging.create_conversation`, signed by her), so the
social service never creates one on its own authority: the member whose consent completes the
introduction hands over her signed request with that consent, and it is forwarded. When
messaging does not answer (not deployed, or down) or refuses, the introduction still connects and
its chat stays pending; `retry_introduction_chat` forwards a fresh request later.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from shared.commands import CommandClient, CommandRejected, CommandUnavailable

log = logging.getLogger(__name__)
CREATE_CHAT = "create_conversation"
CHAT_ACTION = f"messaging.{CREATE_CHAT}"
CHANGE_MEMBERS = "change_members"
LEAVE_ACTION = f"messaging.{CHANGE_MEMBERS}"


class ChatOpener(Protocol):
    async def open_group_chat(self, community: str, statement: dict[str, Any]) -> str:
        """The opened chat's id, or "" when it cannot be opened now (the chat stays pending)."""
        ...

    async def leave_group_chat(self, community: str, statement: dict[str, Any]) -> bool:
        """Forward her signed request to leave the chat; False when messaging did not do it."""
        ...


class NatsChatOpener:
    def __init__(self, client: CommandClient) -> None:
        self._client = client

    async def open_group_chat(self, community: str, statement: dict[str, Any]) -> str:
        try:
            result = await self._client.call(
                "messaging", CREATE_CHAT, {"community": community, "statement": statement}
            )
        except CommandUnavailable:
            log.info("messaging.cmd.%s does not answer: the introduction's chat stays pending", CREATE_CHAT)
            return ""
        except CommandRejected as exc:
            if exc.type == "conversation_exists":  # opened by an earlier attempt whose save failed
                return str(statement.get("body", {}).get("conversation") or "")
            log.warning("messaging refused the introduction's chat: %s", exc)
            return ""
        if isinstance(result, dict):
            for key in ("conversation", "chat", "id"):
                if isinstance(result.get(key), str) and result[key]:
                    return str(result[key])
        return str(statement.get("body", {}).get("conversation") or "opened")

    async def leave_group_chat(self, community: str, statement: dict[str, Any]) -> bool:
        try:
            await self._client.call(
                "messaging", CHANGE_MEMBERS, {"community": community, "statement": statement}
            )
        except CommandUnavailable:
            log.info("messaging.cmd.%s does not answer: the introducer stays in the chat", CHANGE_MEMBERS)
            return False
        except CommandRejected as exc:
            log.warning("messaging refused the introducer's leaving the chat: %s", exc)
            return False
        return True
