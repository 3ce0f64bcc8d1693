"""Reads the MESSAGING stream's signed commits (verified) into the feed's content read model."""

from __future__ import annotations

import asyncio
import logging

import msgspec
from nats.aio.client import Client as NATS

from services.social.projections.content import ContentView
from shared.envelope import EnvelopeError
from shared.jetstream import EventStore, JetStreamError, StreamSettings
from shared.signing import SigningKey
from shared.subjects import StreamSubjects

log = logging.getLogger(__name__)
PAGE = 500


class MessagingEvents:
    """Catches the content view up with MESSAGING; every commit's signature is checked on read."""

    def __init__(self, nc: NATS, view: ContentView, subjects: StreamSubjects | None = None) -> None:
        # A reader never appends, so the key only satisfies the store's constructor.
        settings = StreamSettings(subjects or StreamSubjects.for_service("messaging"))
        self._store = EventStore(nc, settings, SigningKey.generate())
        self._view = view
        self._lock = asyncio.Lock()

    async def catch_up(self) -> None:
        async with self._lock:
            while True:
                try:
                    page = await self._store.read_commits(self._view.position + 1, limit=PAGE)
                except JetStreamError as exc:
                    log.info("MESSAGING is not readable yet (%s): feeds show social posts only", exc)
                    return
                except EnvelopeError:
                    # A commit that fails verification is never shown; feeds keep what was verified.
                    log.exception("a MESSAGING commit after %s failed verification", self._view.position)
                    return
                for stored in page:
                    commit = stored.commit
                    for record in commit.events:
                        try:
                            event = msgspec.msgpack.decode(record.state)
                        except msgspec.DecodeError:
                            log.warning("undecodable messaging event %s at %s", record.topic, stored.seq)
                            continue
                        if isinstance(event, dict):
                            at = event.get("occurred_ns")
                            self._view.apply_event(
                                commit.community, event, at if isinstance(at, int) else commit.timestamp_ns
                            )
                    self._view.position = stored.seq
                if len(page) < PAGE:
                    return
