"""Event schemas by versioned tag: encoding with msgspec, upcasting old tags, refusing unknown ones.

Rolling upgrades (docs/decisions/0019): a release that introduces a new event version first ships
reading it but still writing the old one. `EventRegistry.downcaster(new_tag, old_tag)` is that
release's rule: events tagged `new_tag` are written as `old_tag`, and only when the stored old
event reads back (through the upcasters) equal to the event decided, so a downcast never loses a
fact; otherwise the write is refused with UpcastError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from shared.domain import Event

__all__ = [
    "Downcaster",
    "EventCodec",
    "EventRegistry",
    "MsgspecMapper",
    "UnknownEventType",
    "UpcastError",
    "Upcaster",
]

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
Downcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(ValueError):
    """A stored event carries a tag no registered schema (or upcaster) knows."""


class UpcastError(ValueError):
    """An old event could not be brought to the current schema (or, written, down to an old one)."""


class EventRegistry:
    """The tags a service knows, their schemas, upcasters from retired tags, and downcasters to
    the tags it still writes while a newer version rolls out."""

    def __init__(self, events: Iterable[type[Event]] = ()) -> None:
        self._by_tag: dict[str, type[Event]] = {}
        self._upcasters: dict[str, tuple[str, Upcaster]] = {}
        self._downcasters: dict[str, tuple[str, Downcaster]] = {}
        for event_class in events:
            self.register(event_class)

    def register(self, event_class: type[Event]) -> type[Event]:
        tag = event_class.__struct_config__.tag
        if not isinstance(tag, str) or tag.count(".") < 2:
            raise ValueError(f"{event_class.__name__} needs a tag '<service>.<fact>.v<n>'")
        if tag in self._by_tag and self._by_tag[tag] is not event_class:
            raise ValueError(f"tag {tag} is registered twice")
        self._by_tag[tag] = event_class
        return event_class

    def upcaster(self, old_tag: str, new_tag: str) -> Callable[[Upcaster], Upcaster]:
        """Register `fn(old_fields) -> new_fields` turning `old_tag` events into `new_tag` ones."""

        def register(fn: Upcaster) -> Upcaster:
            self._upcasters[old_tag] = (new_tag, fn)
            return fn

        return register

    def downcaster(self, new_tag: str, old_tag: str) -> Callable[[Downcaster], Downcaster]:
        """Register `fn(new_fields) -> old_fields`: while it is registered, events tagged `new_tag`
        are written as `old_tag` (the "reads new, writes old" release of a rolling upgrade).

        The codec writes a downcast event only if it reads back, through the upcasters from
        `old_tag`, equal to the event; otherwise `EventCodec.encode` raises UpcastError.
        """
        if new_tag == old_tag:
            raise ValueError(f"a downcaster from {new_tag} to itself")

        def register(fn: Downcaster) -> Downcaster:
            self._downcasters[new_tag] = (old_tag, fn)
            return fn

        return register

    def write_tag(self, tag: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The tag and fields an event tagged `tag` is written as, after its downcasters."""
        seen = set()
        while tag in self._downcasters:
            if tag in seen:
                raise UpcastError(f"downcasters loop at {tag}")
            seen.add(tag)
            old_tag, fn = self._downcasters[tag]
            try:
                fields = fn(dict(fields))
            except Exception as exc:
                raise UpcastError(f"downcasting {tag} to {old_tag} failed: {exc}") from exc
            if not isinstance(fields, dict):
                raise UpcastError(f"downcasting {tag} to {old_tag} did not give a map")
            tag = old_tag
        return tag, fields

    def schema(self, tag: str) -> type[Event]:
        try:
            return self._by_tag[tag]
        except KeyError:
            raise UnknownEventType(
                f"unknown event type {tag!r}; this service knows {sorted(self._by_tag)}"
            ) from None

    def current_tag(self, tag: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        seen = set()
        while tag not in self._by_tag and tag in self._upcasters:
            if tag in seen:
                raise UpcastError(f"upcasters loop at {tag}")
            seen.add(tag)
            new_tag, fn = self._upcasters[tag]
            try:
                fields = fn(dict(fields))
            except Exception as exc:
                raise UpcastError(f"upcasting {tag} to {new_tag} failed: {exc}") from exc
            tag = new_tag
        return tag, fields

    @property
    def tags(self) -> list[str]:
        return sorted(self._by_tag)

    @property
    def downcasts(self) -> dict[str, str]:
        """Each tag written under an older one, and that older tag (one step)."""
        return {new: old for new, (old, _) in self._downcasters.items()}


class EventCodec:
    """Encodes events as msgpack and decodes stored ones, upcasting retired tags on the way."""

    def __init__(self, registry: EventRegistry) -> None:
        self.registry = registry
        self._encoder = msgspec.msgpack.Encoder()

    def encode(self, event: Event) -> tuple[str, bytes]:
        """(tag, msgpack) to store for `event`: its own tag, or the older tag its downcasters
        give, provided the downcast event decodes back to an equal one (else UpcastError)."""
        tag = type(event).__struct_config__.tag
        assert isinstance(tag, str)
        self.registry.schema(tag)  # refuse to write what we could not read back
        if tag not in self.registry.downcasts:
            return tag, self._encoder.encode(event)
        # Bytes stay bytes (msgpack bin), as the old release's schema decodes them; the default would
        # turn them into base64 text, which the read-back below accepts but an old decoder refuses.
        fields = msgspec.to_builtins(event, builtin_types=(bytes, bytearray, memoryview))
        assert isinstance(fields, dict)
        old_tag, fields = self.registry.write_tag(tag, fields)
        fields["type"] = old_tag
        try:
            data = self._encoder.encode(fields)
        except (TypeError, msgspec.EncodeError) as exc:
            raise UpcastError(f"downcasting {tag} to {old_tag} gave unencodable fields: {exc}") from exc
        try:
            back = self.decode(old_tag, data)
        except (UnknownEventType, UpcastError) as exc:
            raise UpcastError(f"refusing to write {tag} as {old_tag}: it does not read back: {exc}") from exc
        if back != event:
            lost = _differing_fields(event, back)
            raise UpcastError(
                f"refusing to write {tag} as {old_tag}: the downcast loses information "
                f"(reads back with different {', '.join(lost)})"
            )
        return old_tag, data

    def decode(self, tag: str, data: bytes) -> Event:
        if tag in self.registry.tags:
            try:
                return msgspec.msgpack.decode(data, type=self.registry.schema(tag))
            except msgspec.DecodeError as exc:
                raise UnknownEventType(f"event {tag} does not match its schema: {exc}") from exc
        try:
            fields = msgspec.msgpack.decode(data)
        except msgspec.DecodeError as exc:
            raise UnknownEventType(f"event {tag} is corrupt: {exc}") from exc
        if not isinstance(fields, dict):
            raise UnknownEventType(f"event {tag} is not a map")
        new_tag, fields = self.registry.current_tag(tag, fields)
        fields["type"] = new_tag
        try:
            return msgspec.convert(fields, self.registry.schema(new_tag))
        except msgspec.ValidationError as exc:
            raise UpcastError(f"{tag} upcast to {new_tag} does not fit the schema: {exc}") from exc


def _differing_fields(event: Event, back: Event) -> list[str]:
    """The names of the fields that differ (values left out: events may hold personal data)."""
    ours, theirs = msgspec.to_builtins(event), msgspec.to_builtins(back)
    assert isinstance(ours, dict)
    assert isinstance(theirs, dict)
    return sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k)) or ["class"]


class _NoTranscoder(Transcoder):
    def encode(self, obj: Any) -> bytes:
        raise NotImplementedError("events are encoded by EventCodec")

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError("events are decoded by EventCodec")


class MsgspecMapper(Mapper[str]):
    """The library's mapper, with event tags as topics and msgspec schemas as the transcoder."""

    def __init__(self, codec: EventCodec, **kwargs: Any) -> None:
        super().__init__(transcoder=_NoTranscoder(), **kwargs)
        self.codec = codec

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        assert isinstance(domain_event, Event)
        tag, state = self.codec.encode(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=tag,
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        state = stored_event.state
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return self.codec.decode(stored_event.topic, state)
