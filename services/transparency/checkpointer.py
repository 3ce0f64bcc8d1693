"""The checkpointer: follows every logged stream, keeps each community's Merkle tree, and publishes
signed C2SP checkpoints of it to the AUDIT stream.

Following: a core subscription on each stream's commit subjects only says "something arrived";
the commits themselves are read in stream order with Direct Get batches, so nothing is missed or
reordered, and a restart simply reads the streams again from the start.

Publishing: at most one checkpoint per community and stream per interval, only when the tree grew.
Each is published with `Nats-Expected-Last-Subject-Sequence`, so two checkpointers can never both
extend the same log; before extending, the newest published checkpoint is checked against the
tree (same root at its size), and a log whose history disagrees is never signed again (an alarm).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from services.transparency.logs import CommunityLog, LastCheckpoint, Logs
from shared.jetstream.errors import WRONG_LAST_SEQUENCE, JetStreamAPIError, JetStreamError, StreamNotFound
from shared.jetstream.publisher import OutgoingMessage, Publisher
from shared.jetstream.reader import StreamReader
from shared.jetstream.streams import stream_info
from shared.signing import SigningKey
from shared.transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    key_id,
    note_signer_name,
    parse_signed_checkpoint,
    sign_checkpoint,
    verifier_key,
)
from shared.transparency.layout import (
    AUDIT_STREAM,
    LOGGED_STREAMS,
    checkpoint_subject,
    key_subject,
    origin,
    stream_prefix,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    community: str
    stream: str
    size: int
    root: bytes
    note: str


class Checkpointer:
    def __init__(
        self,
        nc: NATS,
        key: SigningKey,
        deployment: str,
        *,
        interval_s: float = 1.0,
        poll_s: float = 2.0,
        streams: tuple[str, ...] = LOGGED_STREAMS,
    ) -> None:
        self.nc = nc
        self.key = key
        self.deployment = deployment
        self.key_name = note_signer_name(deployment)
        self.verifier = verifier_key(self.key_name, key.public_key)
        self.interval_s = interval_s
        self.poll_s = poll_s
        self.streams = streams
        self.logs = Logs()
        self._next_seq = dict.fromkeys(streams, 1)
        self._read_locks = {s: asyncio.Lock() for s in streams}
        self._publish_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._readers = {s: StreamReader(nc, s) for s in streams}
        self._audit = StreamReader(nc, AUDIT_STREAM)
        self._publisher = Publisher(nc)
        self._subs: list[Subscription] = []
        self._task: asyncio.Task[None] | None = None
        self._keys_published: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        await self._publisher.start()

        async def wake(_: Msg) -> None:
            self._wake.set()

        for stream in self.streams:
            self._subs.append(await self.nc.subscribe(f"{stream_prefix(stream)}.*.*.*", cb=wake))
        await self.catch_up()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for sub in self._subs:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()
        self._subs.clear()
        await self._publisher.close()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_s):
                    await self._wake.wait()
            self._wake.clear()
            started = loop.time()
            try:
                await self.catch_up()
                await self.publish_due()
            except (JetStreamError, nats.errors.Error):
                log.warning("checkpointer round failed; retrying", exc_info=True)
            await asyncio.sleep(max(0.0, self.interval_s - (loop.time() - started)))

    # -- following ---------------------------------------------------------------------------

    async def catch_up(self, until: dict[str, int] | None = None) -> None:
        """Read every stream to its end (or at least to `until[stream]`)."""
        for stream in self.streams:
            await self._catch_up_stream(stream, (until or {}).get(stream, 0))

    async def _catch_up_stream(self, stream: str, until: int) -> None:
        reader = self._readers[stream]
        subject = f"{stream_prefix(stream)}.*.*.*"
        async with self._read_locks[stream]:
            while True:
                try:
                    page, pending = await reader.batch(self._next_seq[stream], subject, min_last_seq=until)
                except StreamNotFound:
                    return
                for raw in page:
                    community = raw.subject.split(".", 2)[1]
                    self.logs.for_commit(community, stream).append(raw.seq, raw.data)
                if page:
                    self._next_seq[stream] = page[-1].seq + 1
                if not page or pending == 0:
                    return

    async def stream_ends(self) -> dict[str, int]:
        ends: dict[str, int] = {}
        for stream in self.streams:
            try:
                ends[stream] = int((await stream_info(self.nc, stream))["state"]["last_seq"])
            except JetStreamAPIError:
                continue
        return ends

    # -- publishing --------------------------------------------------------------------------

    async def publish_due(self, community: str | None = None) -> list[Published]:
        async with self._publish_lock:
            logs = self.logs.all() if community is None else self.logs.of_community(community)
            out = []
            for entry in logs:
                published = await self._publish(entry)
                if published is not None:
                    out.append(published)
            return out

    async def checkpoint_now(self, community: str) -> dict[str, Published | None]:
        """Read every stream to its current end, then checkpoint the community's logs that grew.

        Returns, per stream holding the community's commits, the newest checkpoint (just
        published, or the existing one when nothing changed)."""
        await self.catch_up(await self.stream_ends())
        await self.publish_due(community)
        return {entry.stream: await self.latest(entry) for entry in self.logs.of_community(community)}

    async def latest(self, entry: CommunityLog) -> Published | None:
        raw = await self._audit.last(checkpoint_subject(entry.community, entry.stream))
        if raw is None:
            return None
        signed = parse_signed_checkpoint(raw.data.decode())
        cp = signed.checkpoint
        return Published(entry.community, entry.stream, cp.size, cp.root, signed.text)

    async def _load_last(self, entry: CommunityLog) -> bool:
        """Read the newest published checkpoint of the log; False when the log must not be extended."""
        subject = checkpoint_subject(entry.community, entry.stream)
        raw = await self._audit.last(subject)
        if raw is None:
            entry.last_checkpoint = None
            entry.checkpoint_loaded = True
            return True
        try:
            signed = parse_signed_checkpoint(raw.data.decode())
        except (CheckpointError, UnicodeDecodeError) as exc:
            entry.alarm = f"the checkpoint at AUDIT sequence {raw.seq} is unreadable: {exc}"
            log.error("transparency log %s/%s: %s", entry.community, entry.stream, entry.alarm)
            return False
        cp = signed.checkpoint
        entry.last_checkpoint = LastCheckpoint(raw.seq, cp.size, cp.root)
        entry.checkpoint_loaded = True
        if cp.size > entry.size:
            return False  # the stream is not yet read that far (e.g. an import in progress)
        if entry.tree.root(cp.size) != cp.root:
            entry.alarm = (
                f"checkpoint {cp.origin} at AUDIT sequence {raw.seq} has a root for tree size {cp.size} "
                "that the stream's commits do not produce: the history was changed"
            )
            log.error("transparency log %s/%s: %s", entry.community, entry.stream, entry.alarm)
            return False
        return True

    async def _publish(self, entry: CommunityLog) -> Published | None:
        if entry.alarm is not None:
            return None
        if not entry.checkpoint_loaded and not await self._load_last(entry):
            return None
        if not entry.dirty:
            return None
        last = entry.last_checkpoint
        if last is not None and (last.size > entry.size or entry.tree.root(last.size) != last.root):
            return None
        await self._publish_key(entry.community)
        size = entry.size
        root = entry.tree.root(size)
        signed = sign_checkpoint(
            Checkpoint(origin(self.deployment, entry.community, entry.stream), size, root),
            self.key,
            self.key_name,
        )
        subject = checkpoint_subject(entry.community, entry.stream)
        headers = {
            "Nats-Msg-Id": hashlib.sha256(signed.text.encode()).hexdigest(),
            "Nats-Expected-Last-Subject-Sequence": str(last.audit_seq if last else 0),
        }
        try:
            ack = await self._publisher.publish(OutgoingMessage(subject, signed.text.encode(), headers))
        except JetStreamAPIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                entry.checkpoint_loaded = False  # someone else extended it: check theirs next round
                return None
            raise
        entry.last_checkpoint = LastCheckpoint(ack.seq, size, root)
        return Published(entry.community, entry.stream, size, root, signed.text)

    async def _publish_key(self, community: str) -> None:
        if community in self._keys_published:
            return
        kid = key_id(self.key_name, self.key.public_key).hex()
        subject = key_subject(community, kid)
        if await self._audit.last(subject) is None:
            message = OutgoingMessage(
                subject,
                self.verifier.encode(),
                {"Nats-Msg-Id": f"key-{community}-{kid}", "Nats-Expected-Last-Subject-Sequence": "0"},
            )
            try:
                await self._publisher.publish(message)
            except JetStreamAPIError as exc:
                if exc.err_code != WRONG_LAST_SEQUENCE:  # another instance announced it first
                    raise
        self._keys_published.add(community)
