"""Many signed commits, fast: concurrent writers over `aggregates` aggregates spread across
communities, each aggregate's commits in order (what benches and fault tests load a stream with)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from shared.envelope import EventRecord
from shared.jetstream import EventStore

__all__ = ["write_spread"]


async def write_spread(
    store: EventStore,
    communities: Sequence[str],
    commits: int,
    *,
    aggregates: int = 40,
    topic: str = "w.thing_noted.v1",
    state: bytes = b"\x80",
) -> None:
    """`commits` single-event commits: aggregate `t<a>` of community `communities[a % n]` gets
    every `aggregates`-th one, after whatever it already holds."""

    async def writer(a: int) -> None:
        community = communities[a % len(communities)]
        head = await store.head(f"{store.subjects.prefix}.{community}.thing.t{a}")
        version = head.last_version or 0
        for _ in range(a, commits, aggregates):
            version += 1
            commit = store.new_commit(
                community=community,
                aggregate="thing",
                ident=f"t{a}",
                originator_id=f"{community}.thing.t{a}",
                events=[EventRecord(topic, version, state)],
            )
            await store.append([commit])

    await asyncio.gather(*(writer(a) for a in range(aggregates)))
