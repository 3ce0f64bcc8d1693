"""Membership settles its own optimistic-concurrency conflicts (`shared/retry.py`): every membership
use case loads aggregates, decides and saves them as one atomic batch, and is run again from its
loads when the save loses a race. Credentials issued for an attempt whose save lost are revoked by
that attempt (`HandlerBase.save`)."""

from shared.retry import MAX_ATTEMPTS, Busy, Conflict, remember, remembered, retrying

__all__ = ["MAX_ATTEMPTS", "Busy", "Conflict", "remember", "remembered", "retrying"]
