"""Test doubles that ship with the service: an in-memory roster, nonce registry and chat opener."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.social.adapters.members import MemberRecord
from shared.statements import StatementFailure, StatementRejected, VerifiedStatement


@dataclass
class FakeRoster:
    records: dict[tuple[str, str], MemberRecord] = field(default_factory=dict)

    def admit(self, community: str, did: str, name: str = "", roles: tuple[str, ...] = ("member",)) -> None:
        self.records[(community, did)] = MemberRecord(did, name, "active", roles)

    def suspend(self, community: str, did: str) -> None:
        record = self.records[(community, did)]
        self.records[(community, did)] = MemberRecord(did, record.name, "suspended", record.roles)

    async def member(self, community: str, did: str) -> MemberRecord | None:
        return self.records.get((community, did))


@dataclass
class MemoryNonces:
    seen: set[tuple[str, str, str]] = field(default_factory=set)

    async def claim(self, statement: VerifiedStatement) -> None:
        key = (statement.community, statement.actor, statement.nonce)
        if key in self.seen:
            raise StatementRejected(StatementFailure.REPLAYED, "this statement (nonce) was already used")
        self.seen.add(key)


@dataclass
class FakeChats:
    """Opens a chat for a well-formed signed request (the signature is messaging's to check)."""

    available: bool = True
    opened: list[tuple[str, str, list[str]]] = field(default_factory=list)
    left: list[tuple[str, str, str]] = field(default_factory=list)  # (community, chat, who left)

    async def open_group_chat(self, community: str, statement: dict[str, Any]) -> str:
        if not self.available:
            return ""
        body = statement["body"]
        self.opened.append((community, str(body["conversation"]), sorted(body["members"])))
        return str(body["conversation"])

    async def leave_group_chat(self, community: str, statement: dict[str, Any]) -> bool:
        if not self.available:
            return False
        self.left.append((community, str(statement["body"]["conversation"]), str(statement["actor"])))
        return True
