"""Rolling upgrades with event upcasting (docs/decisions/0019), on one real JetStream stream.

Three releases of one small counter service share one stream, as their replicas do while a
deployment rolls:

- release 1 knows only `ru.counter_bumped.v1` (field `amount`);
- release 2 knows v2 (field `by`, plus `reason` with a default), upcasts v1 to v2 and downcasts
  v2 to v1: it reads the new version but still writes the old one;
- release 3 writes v2 (no downcaster) and still upcasts v1.

Release 1 and 2 replicas can run side by side; release 2 and 3 can; release 1 and 3 cannot, and a
release 1 replica left running when release 3 writes refuses to load rather than write.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from eventsourcing.persistence import IntegrityError

from shared.application import ServiceApplication
from shared.domain import Aggregate, DomainError, Event, applies
from shared.eventcodec import EventRegistry, UnknownEventType, UpcastError
from shared.persistence.jetstream import JetStreamApplicationRecorder
from shared.testkit.plugin import unique_service

V1 = "ru.counter_bumped.v1"
V2 = "ru.counter_bumped.v2"
OPENED = "ru.counter_opened.v1"


class Opened(Event, frozen=True, tag=OPENED):
    name: str


# -- release 1 ------------------------------------------------------------------------------


class BumpedV1(Event, frozen=True, tag=V1):
    amount: int


class CounterR1(Aggregate):
    @applies(Opened)
    def _opened(self, event: Opened) -> None:
        self.name = event.name
        self.value = 0

    @applies(BumpedV1)
    def _bumped(self, event: BumpedV1) -> None:
        self.value += event.amount

    @classmethod
    def open(cls, ident: str, name: str, now: int) -> CounterR1:
        counter = cls(ident)
        counter.trigger(Opened, now, name=name)
        return counter

    def bump(self, by: int, now: int) -> None:
        if by <= 0:
            raise DomainError("bad_bump", "a bump must be positive")
        self.trigger(BumpedV1, now, amount=by)


# -- releases 2 and 3 (the same domain code; they differ in what they write) ------------------


class BumpedV2(Event, frozen=True, tag=V2):
    by: int
    reason: str = ""


class CounterR2(Aggregate):
    @applies(Opened)
    def _opened(self, event: Opened) -> None:
        self.name = event.name
        self.value = 0
        self.reasons: list[str] = []

    @applies(BumpedV2)
    def _bumped(self, event: BumpedV2) -> None:
        self.value += event.by
        if event.reason:
            self.reasons.append(event.reason)

    @classmethod
    def open(cls, ident: str, name: str, now: int) -> CounterR2:
        counter = cls(ident)
        counter.trigger(Opened, now, name=name)
        return counter

    def bump(self, by: int, now: int, reason: str = "") -> None:
        if by <= 0:
            raise DomainError("bad_bump", "a bump must be positive")
        self.trigger(BumpedV2, now, by=by, reason=reason)


def _amount_became_by(fields: dict[str, Any]) -> dict[str, Any]:
    fields["by"] = fields.pop("amount")
    return fields


def _by_was_amount(fields: dict[str, Any]) -> dict[str, Any]:
    fields["amount"] = fields.pop("by")
    fields.pop("reason", None)  # lossy unless the reason is the default: the codec checks
    return fields


RELEASE_1 = EventRegistry([Opened, BumpedV1])

RELEASE_2 = EventRegistry([Opened, BumpedV2])
RELEASE_2.upcaster(V1, V2)(_amount_became_by)
RELEASE_2.downcaster(V2, V1)(_by_was_amount)

RELEASE_3 = EventRegistry([Opened, BumpedV2])
RELEASE_3.upcaster(V1, V2)(_amount_became_by)


class _Counters(ServiceApplication):
    counter_class: type[CounterR1] | type[CounterR2]

    def open(self, ident: str, name: str, now: int) -> None:
        self.save(self.counter_class.open(ident, name, now))

    def bump(self, ident: str, by: int, now: int, reason: str = "") -> None:
        counter = self.load(self.counter_class, ident)
        if reason:
            assert isinstance(counter, CounterR2)
            counter.bump(by, now, reason)
        else:
            counter.bump(by, now)
        self.save(counter)

    def state(self, ident: str) -> tuple[str, int, int]:
        counter = self.load(self.counter_class, ident)
        return counter.name, counter.value, counter.version

    @property
    def jetstream(self) -> JetStreamApplicationRecorder:
        assert isinstance(self.recorder, JetStreamApplicationRecorder)
        return self.recorder

    def last_seq(self) -> int:
        recorder = self.jetstream
        seq: int = recorder.connection.run(recorder.store.last_seq())
        return seq

    def raw(self) -> list[tuple[int, str, str, bytes]]:
        """Every stored event as (notification id, aggregate, tag, stored bytes), stream order."""
        return [
            (n.id, str(n.originator_id), n.topic, n.state)
            for n in self.jetstream.select_notifications(None, 10_000)
        ]


class CountersR1(_Counters):
    registry = RELEASE_1
    counter_class = CounterR1


class CountersR2(_Counters):
    registry = RELEASE_2
    counter_class = CounterR2


class CountersR3(_Counters):
    registry = RELEASE_3
    counter_class = CounterR2


@pytest.fixture
def stream(nats_url: str) -> dict[str, str]:
    """The environment of replicas sharing one stream of this test's own."""
    return {
        "PERSISTENCE_MODULE": "shared.persistence.jetstream",
        "NATS_URL": nats_url,
        "NATS_STREAM": unique_service("ROLL").upper(),
    }


def _tags(app: _Counters) -> list[str]:
    return [tag for _, _, tag, _ in app.raw()]


A = "acme.counter.a"
B = "acme.counter.b"


def test_read_new_write_old_release_runs_beside_the_old_one(stream: dict[str, str]) -> None:
    r1 = CountersR1(env=stream)
    r2 = CountersR2(env=stream)
    try:
        # Release 1 alone: history.
        r1.open(A, "visits", now=1)
        r1.bump(A, 2, now=2)
        r1.open(B, "likes", now=3)
        assert _tags(r1) == [OPENED, V1, OPENED]

        # Release 2 replicas join; both append alternately to the same aggregates.
        r2.bump(A, 3, now=4)
        r1.bump(A, 4, now=5)
        r2.bump(B, 5, now=6)
        r1.bump(B, 6, now=7)
        r2.bump(A, 1, now=8)
        assert r1.state(A) == r2.state(A) == ("visits", 10, 5)
        assert r1.state(B) == r2.state(B) == ("likes", 11, 3)
        # Release 2 wrote only what release 1 reads: every bump is stored as v1, with `amount`.
        raw = r2.raw()
        assert [tag for _, _, tag, _ in raw] == [OPENED, V1, OPENED] + [V1] * 5
        for _, _, tag, data in raw:
            fields = msgspec.msgpack.decode(data)
            assert fields["type"] == tag
            if tag == V1:
                assert set(fields) == {"type", "originator_id", "originator_version", "occurred_ns", "amount"}

        # Optimistic concurrency holds across releases: a stale writer gets the conflict error.
        stale_r1 = r1.load(CounterR1, A)
        stale_r2 = r2.load(CounterR2, A)
        stale_r2.bump(1, now=9)
        r2.save(stale_r2)
        stale_r1.bump(1, now=10)
        before = r1.last_seq()
        with pytest.raises(IntegrityError, match="concurrency conflict"):
            r1.save(stale_r1)
        stale_r2 = r2.load(CounterR2, A)
        r1.bump(A, 1, now=11)
        stale_r2.bump(1, now=12)
        with pytest.raises(IntegrityError, match="concurrency conflict"):
            r2.save(stale_r2)
        assert r1.last_seq() == before + 1  # only the fresh write landed
        assert r1.state(A) == r2.state(A) == ("visits", 12, 7)

        # A fact release 1 could not read is refused by release 2, not written.
        before = r2.last_seq()
        with pytest.raises(UpcastError, match=r"ru\.counter_bumped\.v2 as ru\.counter_bumped\.v1"):
            r2.bump(A, 1, now=13, reason="campaign")
        assert r2.last_seq() == before
        assert r1.state(A) == r2.state(A) == ("visits", 12, 7)
    finally:
        r1.close()
        r2.close()


def test_writing_the_new_version_needs_the_two_step_upgrade(stream: dict[str, str]) -> None:
    r1 = CountersR1(env=stream)
    r2 = CountersR2(env=stream)
    r3 = CountersR3(env=stream)
    try:
        r1.open(A, "visits", now=1)
        r1.bump(A, 2, now=2)
        r2.bump(A, 3, now=3)
        r1.open(B, "likes", now=4)
        r2.bump(B, 1, now=5)
        old = r1.raw()
        assert [tag for _, _, tag, _ in old] == [OPENED, V1, V1, OPENED, V1]

        # Release 3 writes v2, with the field release 1 never had.
        r3.bump(A, 4, now=6, reason="campaign")
        r3.bump(A, 1, now=7)
        assert r3.state(A) == ("visits", 10, 5)
        assert r3.state(B) == ("likes", 1, 2)  # v1 history read through the upcaster

        # Release 2 (still running beside release 3) reads release 3's events, new field included.
        assert r2.state(A) == ("visits", 10, 5)
        assert r2.load(CounterR2, A).reasons == ["campaign"]
        r2.bump(A, 5, now=8)  # and keeps writing v1, which release 3 reads
        assert r3.state(A) == r2.state(A) == ("visits", 15, 6)

        # A release 1 replica still running (the forbidden one-step upgrade) refuses to load the
        # aggregate with a v2 event, naming the tag, and writes nothing.
        before = r1.last_seq()
        with pytest.raises(UnknownEventType, match=r"ru\.counter_bumped\.v2"):
            r1.state(A)
        with pytest.raises(UnknownEventType, match=r"ru\.counter_bumped\.v2"):
            r1.bump(A, 1, now=9)
        assert r1.last_seq() == before
        assert r1.state(B) == ("likes", 1, 2)  # aggregates without v2 events still load

        # Stored v1 events are never rewritten: the same sequence, tag and bytes, and the stream
        # holds exactly what each release wrote under the tag it wrote.
        raw = r3.raw()
        assert raw[: len(old)] == old
        assert [(ident, tag) for _, ident, tag, _ in raw[len(old) :]] == [(A, V2), (A, V2), (A, V1)]
        assert {tag for _, _, tag, _ in raw} == {OPENED, V1, V2}
    finally:
        r1.close()
        r2.close()
        r3.close()
