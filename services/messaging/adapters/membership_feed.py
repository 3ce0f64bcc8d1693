"""Who may read and write: a local projection of the MEMBERSHIP stream, checked on every command.

The membership service's commits are read as signed envelopes whose events decode to plain maps
(the event contract), so no membership code is imported. The view catches up in two ways: an
ordered consumer applies new commits as they are stored, and `sync()` pulls up to the stream's
last sequence before a decision, so an admission or suspension is seen by the next command.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import msgspec
import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.messaging.domain.errors import Forbidden
from shared.envelope import Commit, EnvelopeError, open_envelope
from shared.jetstream import JetStreamError, StreamNotFound, StreamReader
from shared.jetstream.streams import stream_info

log = logging.getLogger(__name__)

Admitted = Callable[[str, str, int], Coroutine[Any, Any, object]]  # community, did, admitted_ns


@dataclass
class MemberRecord:
    community: str
    did: str = ""
    name: str = ""
    status: str = "invited"  # invited | applied | active | suspended | left | removed | rejected
    membership_type: str = ""
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    expires_ns: int = 0
    grace_ns: int = 0

    def standing(self, now: int) -> str:
        """`good`, or why not: `suspended`, `expired`, `none`."""
        if self.status == "suspended":
            return "suspended"
        if self.status != "active":
            return "none"
        return "good" if now < self.expires_ns + self.grace_ns else "expired"


class MembershipView:
    """Per community: each member's status, roles, type and tags, as the membership log says."""

    def __init__(self) -> None:
        self.position = 0  # last MEMBERSHIP stream sequence applied
        self.communities: set[str] = set()
        self.names: dict[str, str] = {}  # community -> its display name ("Riverside Food Co-op")
        self._records: dict[str, MemberRecord] = {}  # member aggregate id -> record
        self._by_did: dict[str, dict[str, MemberRecord]] = {}  # community -> did -> record

    def apply(self, seq: int, commit: Commit) -> list[tuple[str, str, int]]:
        """Apply one commit (once); returns the admissions it holds as (community, did, at_ns)."""
        if seq <= self.position:
            return []
        self.position = seq
        admissions = []
        for record in commit.events:
            try:
                fields = msgspec.msgpack.decode(record.state)
            except msgspec.DecodeError:
                log.warning("membership event %s at %s does not decode", record.topic, seq)
                continue
            if isinstance(fields, dict) and self._apply(commit.community, record.topic, fields):
                admissions.append((commit.community, str(fields["did"]), int(fields["occurred_ns"])))
        return admissions

    def _apply(self, community: str, topic: str, fields: dict[str, Any]) -> bool:
        fact = topic.removeprefix("membership.").rsplit(".", 1)[0]
        if fact in ("community_created", "community_configured"):
            self.communities.add(community)
            if fields.get("name"):
                self.names[community] = str(fields["name"])
            return False
        originator = str(fields.get("originator_id", ""))
        if ".member." not in originator:
            return False
        entry = self._records.setdefault(originator, MemberRecord(community))
        if fields.get("did"):
            entry.did = str(fields["did"])
            self._by_did.setdefault(community, {})[entry.did] = entry
        if fields.get("name"):
            entry.name = str(fields["name"])
        if fact == "member_invited":
            entry.tags = tuple(fields.get("tags", ()))
            entry.roles = tuple(fields.get("roles", ()))
            entry.membership_type = str(fields.get("membership_type", ""))
        elif fact == "member_applied":
            entry.status = "applied"
            entry.membership_type = str(fields.get("membership_type") or entry.membership_type)
        elif fact == "member_admitted":
            entry.status = "active"
            entry.membership_type = str(fields.get("membership_type", ""))
            entry.roles = tuple(fields.get("roles", ()))
            entry.expires_ns, entry.grace_ns = int(fields["expires_ns"]), int(fields["grace_ns"])
            return bool(entry.did)
        elif fact == "membership_renewed":
            entry.expires_ns, entry.grace_ns = int(fields["expires_ns"]), int(fields["grace_ns"])
        elif fact == "roles_changed":
            entry.roles = tuple(fields.get("roles", ()))
        elif fact == "profile_updated":
            entry.tags = tuple(fields.get("tags", ()))
        elif fact in ("member_suspended", "member_rejected", "member_removed", "member_left"):
            entry.status = fact.removeprefix("member_")
        elif fact == "member_reinstated":
            entry.status = "active"
        return False

    def community_name(self, community: str) -> str:
        """Its display name, as its admins set it; its id until membership has told us."""
        return self.names.get(community) or community

    def member(self, community: str, did: str) -> MemberRecord | None:
        return self._by_did.get(community, {}).get(did)

    def in_good_standing(self, community: str, now: int) -> list[MemberRecord]:
        records = self._by_did.get(community, {}).values()
        return sorted((r for r in records if r.standing(now) == "good"), key=lambda r: r.did)

    def require_good_standing(self, community: str, did: str, now: int) -> MemberRecord:
        """The member, when she may read and write now; a typed refusal otherwise."""
        record = self.member(community, did)
        standing = "none" if record is None else record.standing(now)
        if standing == "suspended":
            raise Forbidden("member_suspended", f"{did} is suspended in {community}")
        if standing == "expired":
            raise Forbidden("membership_expired", f"{did}'s membership of {community} has expired")
        if record is None or standing != "good":
            raise Forbidden("not_a_member", f"{did} is not a member in good standing of {community}")
        return record


class MembershipFeed:
    """Keeps a MembershipView level with the MEMBERSHIP stream and reports admissions."""

    def __init__(
        self,
        nc: NATS,
        view: MembershipView,
        *,
        stream: str = "MEMBERSHIP",
        prefix: str = "membership",
        on_admitted: Admitted | None = None,
    ) -> None:
        self.nc = nc
        self.view = view
        self.stream = stream
        self.subjects = f"{prefix}.*.*.*"
        self.on_admitted = on_admitted
        self._reader = StreamReader(nc, stream)
        self._sub: Subscription | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[object]] = set()
        self._retrying: asyncio.Task[None] | None = None

    def _take(self, seq: int, data: bytes) -> None:
        try:
            body = open_envelope(data)  # the commit's signature is checked before it is believed
        except EnvelopeError:
            log.error("MEMBERSHIP sequence %s is not a valid signed commit; skipped", seq)
            self.view.position = max(self.view.position, seq)
            return
        if not isinstance(body, Commit):
            return
        for community, did, at_ns in self.view.apply(seq, body):
            if self.on_admitted is not None:
                task: asyncio.Task[object] = asyncio.get_running_loop().create_task(
                    self.on_admitted(community, did, at_ns)
                )
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def sync(self) -> None:
        """Apply everything stored up to now (called before each decision)."""
        try:
            last = int((await stream_info(self.nc, self.stream))["state"]["last_seq"])
        except JetStreamError:
            return  # no MEMBERSHIP stream yet: nobody is a member
        async with self._lock:
            while self.view.position < last:
                try:
                    page, _ = await self._reader.batch(self.view.position + 1, self.subjects)
                except StreamNotFound:
                    return
                if not page:
                    return
                for message in page:
                    self._take(message.seq, message.data)
                if page[-1].seq >= last:
                    return

    async def start(self, retry_s: float = 2.0) -> None:
        """Catch up, then follow new commits; until the stream exists, keep trying in the background."""
        await self.sync()
        if not await self._subscribe():
            self._retrying = asyncio.get_running_loop().create_task(self._retry(retry_s))

    async def _retry(self, every_s: float) -> None:
        for _ in itertools.count():
            await asyncio.sleep(every_s)
            if await self._subscribe():
                return

    async def _subscribe(self) -> bool:
        js = self.nc.jetstream()

        async def on_message(msg: Msg) -> None:
            self._take(msg.metadata.sequence.stream, msg.data)

        try:
            self._sub = await js.subscribe(
                self.subjects,
                stream=self.stream,
                cb=on_message,
                ordered_consumer=True,
                config=ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.view.position + 1
                ),
            )
        except (nats.errors.Error, nats.js.errors.Error) as exc:
            log.info("no live MEMBERSHIP feed yet (%r); decisions sync before each command", exc)
            return False
        return True

    async def stop(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retrying
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task
