"""The NOTICES stream: nudges a service sends its members, kept long enough to be mailed.

A notice (a poll opened, a reminder, a result, a trustee's turn) is not a fact: the fact is the
signed commit already in the service's own stream. A notice is what tells people about it, and it
names its recipients, so it is published once after the commit and read twice: the gateway
forwards it live to the recipients who are online (a core subscription), and the messaging service
mails it to those who asked for email (a durable consumer of this stream, so a notice published
while messaging was down or restarting is mailed when it is back, not lost).

Notices are kept for `NOTICE_MAX_AGE_S` (a week) and no longer: they name who has not voted yet,
which is nobody's business once the poll is over. Each carries a `Nats-Msg-Id` that is a digest of
its community and content, so a notice published twice (a scheduler round redone after a crash)
is stored once within the duplicate window.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import msgspec
import nats.errors
from nats.aio.client import Client as NATS

from shared.jetstream.errors import JetStreamAPIError
from shared.jetstream.streams import STREAM_NAME_IN_USE, jetstream_api, stream_info

__all__ = [
    "NOTICE_MAX_AGE_S",
    "NOTICE_STREAM",
    "NOTICE_SUBJECTS",
    "NoticePublisher",
    "ensure_notice_stream",
    "notice_community",
    "notice_id",
    "notice_service",
    "publish_notice",
]

log = logging.getLogger(__name__)

NOTICE_STREAM = "NOTICES"
NOTICE_SUBJECTS = ("governance.notice.*", "messaging.notice.*")
NOTICE_MAX_AGE_S = 7 * 24 * 3600
NOTICE_PUBLISH_TIMEOUT_S = 2.0


def notice_config(replicas: int) -> dict[str, Any]:
    return {
        "name": NOTICE_STREAM,
        "subjects": list(NOTICE_SUBJECTS),
        "retention": "limits",
        "storage": "file",
        "discard": "old",
        "num_replicas": replicas,
        "max_age": NOTICE_MAX_AGE_S * 10**9,
        "duplicate_window": 120 * 10**9,
    }


async def ensure_notice_stream(nc: NATS, replicas: int | None = None) -> None:
    """Create the stream, or bring an existing one to this release's subjects and limits.

    Provisioning passes the deployment's replicas. A service that only needs the stream to be there
    passes none, so it never shrinks a three-replica stream that provisioning made."""
    config = notice_config(replicas or 1)
    try:
        await jetstream_api(nc, f"$JS.API.STREAM.CREATE.{NOTICE_STREAM}", config)
        return
    except JetStreamAPIError as exc:
        if exc.err_code != STREAM_NAME_IN_USE:
            raise
    current = (await stream_info(nc, NOTICE_STREAM))["config"]
    if replicas is None:
        config["num_replicas"] = current.get("num_replicas", 1)
    if any(current.get(k) != v for k, v in config.items()):
        await jetstream_api(nc, f"$JS.API.STREAM.UPDATE.{NOTICE_STREAM}", {**current, **config})


def notice_id(community: str, notice: dict[str, Any]) -> str:
    """The same notice of the same community, published twice, has the same id."""
    canonical = msgspec.json.encode([community, notice], order="sorted")
    return hashlib.sha256(canonical).hexdigest()[:32]


def notice_community(subject: str) -> str:
    """`<service>.notice.<community>` -> community."""
    return subject.rsplit(".", 1)[-1]


def notice_service(subject: str) -> str:
    """`<service>.notice.<community>` -> service."""
    return subject.split(".", 1)[0]


async def publish_notice(nc: NATS, subject: str, community: str, notice: dict[str, Any]) -> bool:
    """Store the notice in NOTICES (and so reach live subscribers too); True when the stream has it.

    A notice is a nudge after a commit that is already stored: when the stream does not answer
    (not provisioned, no leader for a moment) the notice is still published to whoever listens
    live, the failure is logged, and the caller's command is not failed for it."""
    data = msgspec.json.encode(notice)
    try:
        reply = await nc.request(
            subject,
            data,
            timeout=NOTICE_PUBLISH_TIMEOUT_S,
            headers={"Nats-Msg-Id": notice_id(community, notice)},
        )
    except nats.errors.NoRespondersError:
        # No stream captures the subject: live subscribers got it all the same.
        log.warning("notice on %s was not stored: no %s stream", subject, NOTICE_STREAM)
        return False
    except (TimeoutError, nats.errors.Error) as exc:
        log.warning("notice on %s may not be stored: %r", subject, exc)
        return False
    answer = msgspec.json.decode(reply.data)
    if isinstance(answer, dict) and answer.get("error"):
        log.warning("notice on %s was refused by %s: %s", subject, NOTICE_STREAM, answer["error"])
        return False
    return True


class NoticePublisher:
    """`notify(community, notice)` stores a service's notice on `<service>.notice.<community>`."""

    def __init__(self, nc: NATS, service: str) -> None:
        self._nc = nc
        self.service = service

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        await publish_notice(self._nc, f"{self.service}.notice.{community}", community, notice)
