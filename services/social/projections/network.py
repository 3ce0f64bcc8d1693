"""The trust network of each community: mutual relationships, introductions and their ripples."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from services.social.domain.events import (
    IntroducerLeft,
    IntroductionAnswered,
    IntroductionChatOpened,
    IntroductionConnected,
    IntroductionProposed,
    IntroductionRated,
    RelationshipRecorded,
)
from shared.domain import Event


@dataclass
class Edge:
    directions: dict[str, int] = field(default_factory=dict)  # issuer -> when she signed
    introduction: str = ""

    @property
    def mutual(self) -> bool:
        return len(self.directions) == 2

    @property
    def since(self) -> int:
        return max(self.directions.values())


@dataclass
class IntroEntry:
    introduction: str
    introducer: str
    first: str
    second: str
    note: str
    at: int
    status: str = "proposed"
    answers: dict[str, bool] = field(default_factory=dict)
    chat: str = ""
    chat_status: str = ""
    introducer_left: bool = False
    ratings: dict[str, int] = field(default_factory=dict)
    connected_at: int = 0

    def view(self) -> dict[str, Any]:
        return {
            "introduction": self.introduction,
            "introducer": self.introducer,
            "people": [self.first, self.second],
            "note": self.note,
            "status": self.status,
            "answers": dict(self.answers),
            "chat": self.chat or None,
            "chat_status": self.chat_status or None,
            "introducer_left": self.introducer_left,
            "ratings": dict(self.ratings),
            "at": self.at,
            "connected_at": self.connected_at or None,
        }


@dataclass
class Graph:
    edges: dict[frozenset[str], Edge] = field(default_factory=dict)
    intros: dict[str, IntroEntry] = field(default_factory=dict)

    def neighbours(self, did: str) -> list[str]:
        return sorted(
            next(iter(pair - {did})) for pair, edge in self.edges.items() if did in pair and edge.mutual
        )

    def hops_from(self, did: str, max_hops: int) -> dict[str, int]:
        """Every member within `max_hops` mutual relationships of `did`, with her distance."""
        distance = {did: 0}
        queue = deque([did])
        while queue:
            here = queue.popleft()
            if distance[here] == max_hops:
                continue
            for there in self.neighbours(here):
                if there not in distance:
                    distance[there] = distance[here] + 1
                    queue.append(there)
        return distance


class NetworkView:
    def __init__(self) -> None:
        self.position = 0
        self._graphs: dict[str, Graph] = {}

    def graph(self, community: str) -> Graph:
        return self._graphs.setdefault(community, Graph())

    def apply(self, event: Event) -> None:
        community = event.originator_id.split(".", 1)[0]
        graph = self.graph(community)
        if isinstance(event, RelationshipRecorded):
            edge = graph.edges.setdefault(frozenset((event.issuer, event.subject)), Edge())
            edge.directions[event.issuer] = event.occurred_ns
            edge.introduction = edge.introduction or event.introduction
            return
        if isinstance(event, IntroductionProposed):
            graph.intros[event.introduction] = IntroEntry(
                event.introduction, event.introducer, event.first, event.second, event.note, event.occurred_ns
            )
            return
        intro = graph.intros.get(event.originator_id.rsplit(".", 1)[-1])
        if intro is None:
            return
        if isinstance(event, IntroductionAnswered):
            intro.answers[event.party] = event.consent
            if not event.consent:
                intro.status = "declined"
        elif isinstance(event, IntroductionConnected):
            intro.status, intro.chat, intro.chat_status = "connected", event.chat, event.chat_status
            intro.connected_at = event.occurred_ns
        elif isinstance(event, IntroductionChatOpened):
            intro.chat, intro.chat_status = event.chat, "opened"
        elif isinstance(event, IntroducerLeft):
            intro.introducer_left = True
        elif isinstance(event, IntroductionRated):
            intro.ratings[event.party] = event.value

    # -- queries ----------------------------------------------------------------------------------

    def network(self, community: str, member: str, max_hops: int = 3) -> dict[str, Any]:
        """Her contacts (pending → connected), who is how many hops away, and her intros' ripples."""
        graph = self.graph(community)
        connected = []
        pending = []
        for pair, edge in sorted(graph.edges.items(), key=lambda item: sorted(item[0])):
            if member not in pair:
                continue
            other = next(iter(pair - {member}))
            row = {"did": other, "since": edge.since, "introduction": edge.introduction or None}
            if edge.mutual:
                connected.append(row | {"status": "connected"})
            else:
                waiting_for = other if member in edge.directions else member
                pending.append(row | {"status": "pending", "waiting_for": waiting_for})
        for intro in graph.intros.values():
            if member in (intro.first, intro.second) and intro.status == "proposed":
                other = intro.second if member == intro.first else intro.first
                waiting = [p for p in (intro.first, intro.second) if p not in intro.answers]
                pending.append(
                    {
                        "did": other,
                        "since": intro.at,
                        "introduction": intro.introduction,
                        "status": "pending",
                        "waiting_for": waiting[0] if len(waiting) == 1 else "both",
                    }
                )
        distance = graph.hops_from(member, max_hops)
        hops: dict[str, list[str]] = {}
        for did, hop in sorted(distance.items(), key=lambda item: (item[1], item[0])):
            if hop:
                hops.setdefault(str(hop), []).append(did)
        made = [self._ripple(graph, intro) for intro in graph.intros.values() if intro.introducer == member]
        return {
            "member": member,
            "contacts": connected + pending,
            "hops": hops,
            "introductions_made": sorted(made, key=lambda m: m["at"]),
            "introductions_received": [
                intro.view() for intro in graph.intros.values() if member in (intro.first, intro.second)
            ],
        }

    @staticmethod
    def _ripple(graph: Graph, intro: IntroEntry) -> dict[str, Any]:
        """What an introduction led to: later connections of the people it connected, and intros
        they made in turn after it (the second ripple)."""
        view = intro.view()
        if intro.status != "connected":
            return view | {"ripple": {"connections": [], "introductions": []}}
        people = {intro.first, intro.second}
        later_edges = sorted(
            sorted(pair)
            for pair, edge in graph.edges.items()
            if edge.mutual and pair & people and pair != frozenset(people) and edge.since > intro.connected_at
        )
        later_intros = sorted(
            other.introduction
            for other in graph.intros.values()
            if other.introducer in people and other.at > intro.connected_at and other.status == "connected"
        )
        ratings = list(intro.ratings.values())
        value = sum(ratings) / len(ratings) if ratings else None
        return view | {
            "value": value,
            "ripple": {"connections": later_edges, "introductions": later_intros},
        }

    def introduction(self, community: str, introduction: str) -> IntroEntry | None:
        return self.graph(community).intros.get(introduction)
