"""Polls per community with their status and times (what the scheduler and the poll list read)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from services.governance.domain.events import (
    DelegationGranted,
    DelegationRevoked,
    PartialDecryptionSubmitted,
    PollClosed,
    PollCreated,
    PollExtended,
    PollOpened,
    ResultsRecorded,
    ShareComplained,
    ShareRevealed,
    TallyEncrypted,
    TrusteeCommitted,
)
from shared.domain import Event

THREAD_LINK = "#/forums?"  # the web app's link to a Discuss thread: #/forums?thread=<id>[&post=<id>]
THREAD_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def thread_of(link: str) -> str | None:
    """The Discuss thread an in-app discussion link names (`#/forums?thread=<id>`, perhaps with
    `&post=<id>`), else None: a link elsewhere, to a forum, or with no single well-formed thread."""
    if not link.startswith(THREAD_LINK):
        return None
    threads = parse_qs(link[len(THREAD_LINK) :]).get("thread", [])
    if len(threads) != 1 or not THREAD_ID.fullmatch(threads[0]):
        return None
    return threads[0]


@dataclass
class PollEntry:
    community: str
    poll: str
    title: str
    kind: str
    secret: bool
    opens_ns: int
    closes_ns: int
    status: str = "created"
    trustees_committed: int = 0
    closed_ns: int = 0  # when it closed: at its closing time, or earlier (all voted, or its author)
    trustees: tuple[str, ...] = ()
    committed: set[int] = field(default_factory=set)
    decrypted: set[int] = field(default_factory=set)
    tallied: bool = False
    unanswered: set[tuple[int, int]] = field(default_factory=set)  # complaints: (dealer, recipient)
    discussion: str = ""  # the spec's link to where it is discussed ("" when none)

    @property
    def thread(self) -> str | None:
        """The Discuss thread the poll belongs to, when its discussion link is one in the app."""
        return thread_of(self.discussion)

    def trustees_to_act(self) -> list[str]:
        """Trustees the poll waits for: to make their part of the key, or to decrypt their share."""
        if self.status == "created":
            done = self.committed
        elif self.status == "closed" and self.tallied:
            done = self.decrypted
        else:
            return []
        return [did for i, did in enumerate(self.trustees, start=1) if i not in done]

    def to_reveal(self) -> list[str]:
        """Dealers a complaint waits for: each is to reveal the share a trustee says is false."""
        if self.status == "decided":
            return []
        dealers = sorted({dealer for dealer, _ in self.unanswered})
        return [self.trustees[dealer - 1] for dealer in dealers]


class PollsView:
    def __init__(self) -> None:
        self.position = 0
        self._polls: dict[str, PollEntry] = {}

    def apply(self, event: Event, notification_id: int) -> None:
        if isinstance(event, PollCreated):
            self._polls[event.originator_id] = PollEntry(
                event.community,
                event.poll,
                event.spec.title,
                event.spec.kind,
                event.spec.secret is not None,
                event.opens_ns,
                event.closes_ns,
                trustees=tuple(event.spec.secret.trustees) if event.spec.secret else (),
                discussion=event.spec.discussion,
            )
            return
        entry = self._polls.get(event.originator_id)
        if entry is None:
            return
        if isinstance(event, TrusteeCommitted):
            entry.trustees_committed += 1
            entry.committed.add(event.trustee)
        elif isinstance(event, ShareComplained):
            entry.unanswered.add((event.dealer, event.trustee))
        elif isinstance(event, ShareRevealed):
            entry.unanswered.discard((event.dealer, event.recipient))
        elif isinstance(event, TallyEncrypted):
            entry.tallied = True
        elif isinstance(event, PartialDecryptionSubmitted):
            if event.valid:
                entry.decrypted.add(event.trustee)
        elif isinstance(event, PollOpened):
            entry.status = "open"
        elif isinstance(event, PollExtended):
            entry.closes_ns = event.closes_ns
        elif isinstance(event, PollClosed):
            entry.status = "closed"
            entry.closed_ns = event.occurred_ns
        elif isinstance(event, ResultsRecorded):
            entry.status = "decided"

    def of(self, community: str) -> list[PollEntry]:
        return sorted(
            (p for p in self._polls.values() if p.community == community), key=lambda p: (p.opens_ns, p.poll)
        )

    def active(self) -> list[PollEntry]:
        """Polls the scheduler still has to open, remind, close or decrypt."""
        return [p for p in self._polls.values() if p.status in ("created", "open", "closed")]


@dataclass
class DelegationEntry:
    delegation: str
    delegator: str
    proxy: str
    poll: str
    valid_from_ns: int
    valid_until_ns: int
    revoked: bool = False

    def covers(self, poll: str, at_ns: int) -> bool:
        if self.revoked:
            return False
        if self.poll:
            return self.poll == poll
        return self.valid_from_ns <= at_ns < self.valid_until_ns


class DelegationsView:
    def __init__(self) -> None:
        self.position = 0
        self._by_id: dict[str, DelegationEntry] = {}
        self._community: dict[str, str] = {}

    def apply(self, event: Event, notification_id: int) -> None:
        if isinstance(event, DelegationGranted):
            key = event.originator_id.rsplit(".", 1)[-1]
            self._by_id[event.originator_id] = DelegationEntry(
                key, event.delegator, event.proxy, event.poll, event.valid_from_ns, event.valid_until_ns
            )
            self._community[event.originator_id] = event.community
        elif isinstance(event, DelegationRevoked) and event.originator_id in self._by_id:
            self._by_id[event.originator_id].revoked = True

    def involving(self, community: str, member: str) -> list[DelegationEntry]:
        return [
            d
            for aggregate, d in self._by_id.items()
            if self._community[aggregate] == community and member in (d.delegator, d.proxy)
        ]

    def active_from(self, community: str, delegator: str, poll: str, at_ns: int) -> list[DelegationEntry]:
        return [
            d
            for d in self.involving(community, delegator)
            if d.delegator == delegator and d.covers(poll, at_ns)
        ]
