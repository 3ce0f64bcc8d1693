"""Who is asking, as membership sees her now: standing, roles, membership type and tags."""

from __future__ import annotations

from typing import Protocol

from nats.aio.client import Client as NATS

from services.knowledge.domain.access import Viewer
from services.knowledge.domain.errors import Unavailable
from shared.commands import CommandClient, CommandRejected, CommandUnavailable


class Roster(Protocol):
    async def viewer(self, community: str, did: str) -> Viewer: ...


class NatsRoster:
    """Asks `membership.cmd.member` on every query, so a suspension or a change of roles takes
    effect on the next question, not after some cache expires."""

    def __init__(self, nc: NATS, timeout: float = 5.0) -> None:
        self._client = CommandClient(nc, timeout=timeout)

    async def viewer(self, community: str, did: str) -> Viewer:
        try:
            record = await self._client.call("membership", "member", {"community": community, "member": did})
        except CommandRejected as exc:
            if exc.status == 404:
                return Viewer(did=did, standing="unknown")
            raise Unavailable("membership_unavailable", f"membership refused: {exc.message}") from exc
        except CommandUnavailable as exc:
            raise Unavailable("membership_unavailable", str(exc)) from exc
        return Viewer(
            did=did,
            standing=str(record.get("standing") or "unknown"),
            roles=frozenset(str(r) for r in record.get("roles") or ()),
            membership_type=str(record.get("membership_type") or ""),
            tags=frozenset(str(t) for t in record.get("tags") or ()),
        )


class StaticRoster:
    """A roster held in memory: for service tests, benchmarks and single-community tools."""

    def __init__(self) -> None:
        self.members: dict[tuple[str, str], Viewer] = {}

    def put(self, community: str, viewer: Viewer) -> None:
        self.members[(community, viewer.did)] = viewer

    async def viewer(self, community: str, did: str) -> Viewer:
        return self.members.get((community, did), Viewer(did=did, standing="unknown"))
