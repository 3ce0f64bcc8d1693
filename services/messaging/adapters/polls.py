"""Decide's part of a member's summary by email: a port, and its adapter asking governance.

Governance answers `member_polls {community, member, since_ns, until_ns}` with the open polls on
whose roll she is and has not voted in (`awaiting`) and the polls decided in the period
(`decided`, with their outcome). When governance does not answer, the summary goes without them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.commands import CommandClient, CommandRejected, CommandUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemberPolls:
    awaiting: list[dict[str, Any]] = field(default_factory=list)  # {poll, title, opens_at, closes_at}
    decided: list[dict[str, Any]] = field(default_factory=list)  # {poll, title, closed_at, outcome}


class PollsReader(Protocol):
    async def member_polls(
        self, community: str, member: str, since_ns: int, until_ns: int
    ) -> MemberPolls | None:
        """Her polls for a summary, or None when governance cannot say (the summary goes without)."""
        ...


class NatsPollsReader:
    def __init__(self, client: CommandClient, service: str = "governance") -> None:
        self._client = client
        self._service = service

    async def member_polls(
        self, community: str, member: str, since_ns: int, until_ns: int
    ) -> MemberPolls | None:
        query = {"community": community, "member": member, "since_ns": since_ns, "until_ns": until_ns}
        try:
            answer = await self._client.call(self._service, "member_polls", query)
        except (CommandUnavailable, CommandRejected) as exc:
            log.warning("governance did not list polls for a summary in %s: %s", community, exc)
            return None
        if not isinstance(answer, dict):
            return None
        awaiting, decided = answer.get("awaiting"), answer.get("decided")
        return MemberPolls(
            [p for p in awaiting if isinstance(p, dict)] if isinstance(awaiting, list) else [],
            [p for p in decided if isinstance(p, dict)] if isinstance(decided, list) else [],
        )
