"""Who is a member: the port and its adapter calling `membership.cmd.member` over NATS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.commands import CommandClient, CommandRejected, CommandUnavailable
from shared.domain import DomainError

GOOD_STANDING = ("active", "in_grace")


class MembershipUnavailable(DomainError):
    status = 503


@dataclass(frozen=True)
class MemberRecord:
    did: str
    name: str
    standing: str
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    membership_type: str = ""

    @property
    def in_good_standing(self) -> bool:
        return self.standing in GOOD_STANDING


class Roster(Protocol):
    async def member(self, community: str, did: str) -> MemberRecord | None:
        """The member's record in `community`, None when she is not known there."""
        ...


class NatsRoster:
    """Asks the membership service; its refusal `unknown_member` means not a member."""

    def __init__(self, client: CommandClient) -> None:
        self._client = client

    async def member(self, community: str, did: str) -> MemberRecord | None:
        try:
            found = await self._client.call("membership", "member", {"community": community, "member": did})
        except CommandRejected as exc:
            if exc.status == 404:
                return None
            raise DomainError(exc.type, exc.message) from exc
        except CommandUnavailable as exc:
            raise MembershipUnavailable("membership_unavailable", str(exc)) from exc
        return MemberRecord(
            did=did,
            name=str(found.get("name", "")),
            standing=str(found.get("standing", "")),
            roles=tuple(found.get("roles") or ()),
            tags=tuple(found.get("tags") or ()),
            membership_type=str(found.get("membership_type") or ""),
        )
