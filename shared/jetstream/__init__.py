"""Signed, optimistic-concurrency event storage on NATS JetStream (asyncio)."""

from shared.jetstream.errors import (
    CommitTooLarge,
    ConcurrencyConflict,
    JetStreamAPIError,
    JetStreamError,
    PublishTimeout,
    ServerTooOld,
    StreamNotFound,
)
from shared.jetstream.publisher import PubAck, Publisher
from shared.jetstream.reader import RawMessage, StreamReader
from shared.jetstream.store import (
    NOTIFICATION_STRIDE,
    AggregateHead,
    EventStore,
    StoredCommit,
    notification_id,
    split_notification_id,
)
from shared.jetstream.streams import MIN_SERVER_VERSION, StreamSettings, ensure_stream, require_server

__all__ = [
    "MIN_SERVER_VERSION",
    "NOTIFICATION_STRIDE",
    "AggregateHead",
    "CommitTooLarge",
    "ConcurrencyConflict",
    "EventStore",
    "JetStreamAPIError",
    "JetStreamError",
    "PubAck",
    "PublishTimeout",
    "Publisher",
    "RawMessage",
    "ServerTooOld",
    "StoredCommit",
    "StreamNotFound",
    "StreamReader",
    "StreamSettings",
    "ensure_stream",
    "notification_id",
    "require_server",
    "split_notification_id",
]
