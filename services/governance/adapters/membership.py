"""The membership port: who is a member in good standing, and the committed roll at poll open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shared.commands import CommandClient, CommandRejected, CommandUnavailable
from shared.domain import DomainError


@dataclass(frozen=True)
class Roll:
    """A roll snapshot committed on the MEMBERSHIP stream: sorted DIDs and their RFC 9162 root."""

    snapshot: str
    root: str
    size: int
    at_ns: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class MemberRecord:
    did: str
    standing: str
    roles: tuple[str, ...]

    @property
    def in_good_standing(self) -> bool:
        return self.standing in ("active", "in_grace")


class MembershipUnavailable(DomainError):
    status = 503


class Membership(Protocol):
    async def member(self, community: str, did: str) -> MemberRecord | None: ...

    async def snapshot_roll(self, community: str) -> Roll: ...

    async def get_snapshot(self, community: str, snapshot: str) -> Roll: ...


def roll_from(answer: dict[str, Any]) -> Roll:
    return Roll(
        snapshot=answer["snapshot"],
        root=answer["root"],
        size=answer["size"],
        at_ns=answer["at_ns"],
        members=tuple(answer["members"]),
    )


def record_from(answer: dict[str, Any]) -> MemberRecord:
    return MemberRecord(did=answer["did"], standing=answer["standing"], roles=tuple(answer["roles"]))


class NatsMembership:
    """`membership.cmd.member`, `snapshot_roll` and `get_snapshot` over NATS request/reply."""

    def __init__(self, client: CommandClient) -> None:
        self._client = client

    async def _call(self, name: str, payload: dict[str, Any]) -> Any:
        try:
            return await self._client.call("membership", name, payload)
        except CommandUnavailable as exc:
            raise MembershipUnavailable("membership_unavailable", str(exc)) from exc

    async def member(self, community: str, did: str) -> MemberRecord | None:
        try:
            return record_from(await self._call("member", {"community": community, "member": did}))
        except CommandRejected as exc:
            if exc.status == 404:
                return None
            raise DomainError(exc.type, exc.message) from exc

    async def snapshot_roll(self, community: str) -> Roll:
        try:
            return roll_from(await self._call("snapshot_roll", {"community": community}))
        except CommandRejected as exc:
            raise DomainError(exc.type, exc.message) from exc

    async def get_snapshot(self, community: str, snapshot: str) -> Roll:
        try:
            return roll_from(await self._call("get_snapshot", {"community": community, "snapshot": snapshot}))
        except CommandRejected as exc:
            raise DomainError(exc.type, exc.message) from exc
