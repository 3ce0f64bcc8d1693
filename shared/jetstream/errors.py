"""Typed failures of the JetStream event store."""

from __future__ import annotations

from eventsourcing.persistence import IntegrityError, OperationalError

__all__ = [
    "CommitTooLarge",
    "ConcurrencyConflict",
    "JetStreamAPIError",
    "JetStreamError",
    "PublishTimeout",
    "ServerTooOld",
    "StreamNotFound",
]

WRONG_LAST_SEQUENCE = 10071
BATCH_DUPLICATE_MSG_ID = 10201


class JetStreamError(OperationalError):
    """JetStream could not be reached or did not answer as expected."""


class JetStreamAPIError(JetStreamError):
    """JetStream answered with an error object."""

    def __init__(self, code: int, err_code: int, description: str) -> None:
        super().__init__(f"JetStream error {err_code} ({code}): {description}")
        self.code = code
        self.err_code = err_code
        self.description = description


class PublishTimeout(JetStreamError, TimeoutError):
    """No acknowledgement arrived in time; the commit may or may not be stored (retry is safe)."""


class ServerTooOld(JetStreamError):
    """The nats-server lacks what the event store relies on; retrying will not help."""


class StreamNotFound(JetStreamError):
    """No stream listens on the subject (the service's stream was not provisioned)."""


class CommitTooLarge(JetStreamError, ValueError):
    """The signed commit exceeds the server's maximum message size."""


class ConcurrencyConflict(IntegrityError):
    """Another writer recorded these aggregate versions (or this tracking position) first."""

    def __init__(self, subject: str, detail: str) -> None:
        super().__init__(f"concurrency conflict on {subject}: {detail}")
        self.subject = subject
        self.detail = detail
