"""Aggregates decide events purely; the codec keeps tags, upcasts retired ones, refuses unknown ones."""

from __future__ import annotations

import msgspec
import pytest

from shared.application import NotFound, ServiceApplication
from shared.domain import Aggregate, DomainError, Event, applies
from shared.eventcodec import EventCodec, EventRegistry, UnknownEventType, UpcastError


class Opened(Event, frozen=True, tag="test.counter_opened.v1"):
    name: str


class Bumped(Event, frozen=True, tag="test.counter_bumped.v2"):
    by: int
    reason: str = ""


class Counter(Aggregate):
    @applies(Opened)
    def _opened(self, event: Opened) -> None:
        self.name = event.name
        self.value = 0

    @applies(Bumped)
    def _bumped(self, event: Bumped) -> None:
        self.value += event.by

    @classmethod
    def open(cls, ident: str, name: str, now: int) -> Counter:
        counter = cls(ident)
        counter.trigger(Opened, now, name=name)
        return counter

    def bump(self, by: int, now: int) -> None:
        if by <= 0:
            raise DomainError("bad_bump", "a bump must be positive")
        self.trigger(Bumped, now, by=by)


REGISTRY = EventRegistry([Opened, Bumped])


@REGISTRY.upcaster("test.counter_bumped.v1", "test.counter_bumped.v2")
def _amount_became_by(fields: dict[str, object]) -> dict[str, object]:
    fields["by"] = fields.pop("amount")
    return fields


class Counters(ServiceApplication):
    registry = REGISTRY


def test_given_history_when_bumped_then_one_numbered_event() -> None:
    counter = Counter.replay(
        None, [Opened(originator_id="a.c.1", originator_version=1, occurred_ns=5, name="n")]
    )
    assert counter is not None
    counter.bump(3, now=7)
    assert counter.collect_events() == [
        Bumped(originator_id="a.c.1", originator_version=2, occurred_ns=7, by=3)
    ]
    assert counter.value == 3
    with pytest.raises(DomainError, match="positive"):
        counter.bump(0, now=8)
    assert counter.collect_events() == []


def test_codec_round_trips_and_upcasts_retired_tags() -> None:
    codec = EventCodec(REGISTRY)
    event = Bumped(originator_id="a.c.1", originator_version=2, occurred_ns=7, by=3)
    tag, data = codec.encode(event)
    assert tag == "test.counter_bumped.v2"
    assert codec.decode(tag, data) == event
    old = msgspec.msgpack.encode(
        {
            "type": "test.counter_bumped.v1",
            "originator_id": "a.c.1",
            "originator_version": 2,
            "occurred_ns": 7,
            "amount": 4,
        }
    )
    assert codec.decode("test.counter_bumped.v1", old).by == 4  # type: ignore[attr-defined]


def test_codec_names_unknown_and_broken_events() -> None:
    codec = EventCodec(REGISTRY)
    with pytest.raises(UnknownEventType, match=r"test\.nope\.v1"):
        codec.decode("test.nope.v1", msgspec.msgpack.encode({"x": 1}))
    with pytest.raises(UnknownEventType, match="does not match its schema"):
        codec.decode("test.counter_opened.v1", msgspec.msgpack.encode({"name": 1}))
    bad = msgspec.msgpack.encode({"originator_id": "a", "originator_version": 1, "occurred_ns": 1})
    with pytest.raises(UpcastError, match="amount"):
        codec.decode("test.counter_bumped.v1", bad)


@pytest.mark.parametrize("persistence", ["eventsourcing.popo", "shared.persistence.jetstream"])
def test_an_application_stores_and_loads_aggregates(persistence: str, nats_url: str) -> None:
    app = Counters(
        env={
            "PERSISTENCE_MODULE": persistence,
            "NATS_URL": nats_url,
            "NATS_STREAM": "COUNTERS" + str(id(persistence)),
        }
    )
    try:
        counter = Counter.open("acme.counter.c1", "visits", now=1)
        counter.bump(2, now=2)
        app.save(counter)
        loaded = app.load(Counter, "acme.counter.c1")
        assert (loaded.name, loaded.value, loaded.version) == ("visits", 2, 2)
        with pytest.raises(NotFound):
            app.load(Counter, "acme.counter.missing")
    finally:
        app.close()


# The "reads new, writes old" release of a rolling upgrade (docs/decisions/0019): it knows
# test.counter_bumped.v2 and reads v1, but writes v1 until every replica reads v2.
READS_NEW_WRITES_OLD = EventRegistry([Opened, Bumped])


@READS_NEW_WRITES_OLD.upcaster("test.counter_bumped.v1", "test.counter_bumped.v2")
def _amount_became_by_again(fields: dict[str, object]) -> dict[str, object]:
    fields["by"] = fields.pop("amount")
    return fields


@READS_NEW_WRITES_OLD.downcaster("test.counter_bumped.v2", "test.counter_bumped.v1")
def _by_was_amount(fields: dict[str, object]) -> dict[str, object]:
    fields["amount"] = fields.pop("by")
    fields.pop("reason", None)  # v1 has no reason: lossy unless the reason is the default
    return fields


def test_a_downcaster_writes_the_old_tag_that_reads_back_equal() -> None:
    codec = EventCodec(READS_NEW_WRITES_OLD)
    event = Bumped(originator_id="a.c.1", originator_version=2, occurred_ns=7, by=3)
    tag, data = codec.encode(event)
    assert tag == "test.counter_bumped.v1"
    assert msgspec.msgpack.decode(data) == {
        "type": "test.counter_bumped.v1",
        "originator_id": "a.c.1",
        "originator_version": 2,
        "occurred_ns": 7,
        "amount": 3,
    }
    assert codec.decode(tag, data) == event
    assert EventCodec(REGISTRY).decode(tag, data) == event  # and so does the release after
    assert READS_NEW_WRITES_OLD.downcasts == {"test.counter_bumped.v2": "test.counter_bumped.v1"}
    opened = Opened(originator_id="a.c.1", originator_version=1, occurred_ns=5, name="n")
    assert codec.encode(opened)[0] == "test.counter_opened.v1"  # other tags are written as they are


def test_a_lossy_downcast_is_refused_naming_both_tags() -> None:
    codec = EventCodec(READS_NEW_WRITES_OLD)
    event = Bumped(originator_id="a.c.1", originator_version=2, occurred_ns=7, by=3, reason="x")
    with pytest.raises(UpcastError, match=r"test\.counter_bumped\.v2 as test\.counter_bumped\.v1") as info:
        codec.encode(event)
    assert "reason" in str(info.value)
    assert "'x'" not in str(info.value)  # field names, not values, in the error


def test_a_downcast_that_does_not_read_back_is_refused() -> None:
    failing = EventRegistry([Opened, Bumped])
    failing.upcaster("test.counter_bumped.v1", "test.counter_bumped.v2")(_amount_became_by)

    @failing.downcaster("test.counter_bumped.v2", "test.counter_bumped.v1")
    def _forgets_amount(fields: dict[str, object]) -> dict[str, object]:
        del fields["by"]
        return fields

    event = Bumped(originator_id="a.c.1", originator_version=2, occurred_ns=7, by=3)
    with pytest.raises(UpcastError, match=r"test\.counter_bumped\.v2 as test\.counter_bumped\.v1"):
        EventCodec(failing).encode(event)

    broken = EventRegistry([Opened, Bumped])

    @broken.downcaster("test.counter_bumped.v2", "test.counter_bumped.v1")
    def _raises(fields: dict[str, object]) -> dict[str, object]:
        raise KeyError("amount")

    with pytest.raises(
        UpcastError, match=r"downcasting test\.counter_bumped\.v2 to test\.counter_bumped\.v1"
    ):
        EventCodec(broken).encode(event)
    with pytest.raises(ValueError, match="itself"):
        broken.downcaster("test.counter_bumped.v2", "test.counter_bumped.v2")


class SealedV1(Event, frozen=True, tag="test.sealed.v1"):
    blob: bytes


class SealedV2(Event, frozen=True, tag="test.sealed.v2"):
    data: bytes


def test_a_downcast_keeps_bytes_as_bytes_for_the_old_release() -> None:
    """An old release decodes `bytes` fields strictly from msgpack bin: a downcast must not turn
    them into base64 text (which the new release's own read-back would have accepted)."""
    new = EventRegistry([SealedV2])

    @new.upcaster("test.sealed.v1", "test.sealed.v2")
    def _up(fields: dict[str, object]) -> dict[str, object]:
        fields["data"] = fields.pop("blob")
        return fields

    @new.downcaster("test.sealed.v2", "test.sealed.v1")
    def _down(fields: dict[str, object]) -> dict[str, object]:
        fields["blob"] = fields.pop("data")
        return fields

    event = SealedV2(originator_id="a.s.1", originator_version=1, occurred_ns=1, data=b"\x00\xff sealed")
    tag, stored = EventCodec(new).encode(event)
    assert tag == "test.sealed.v1"
    assert isinstance(msgspec.msgpack.decode(stored)["blob"], bytes)
    old = EventCodec(EventRegistry([SealedV1]))
    assert old.decode(tag, stored).blob == b"\x00\xff sealed"  # type: ignore[attr-defined]
    assert EventCodec(new).decode(tag, stored) == event
