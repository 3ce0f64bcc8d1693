"""Community bundles: everything one community has on a deployment, in one self-contained file.

A bundle is UTF-8 JSON Lines (`docs/formats/bundle.md`): a header, the verifier keys, every commit of
the community in every logged stream (stored envelope bytes, base64, in stream order), the signed
checkpoints of the community's transparency log, the community's did:webvh log, its signed status
lists, and a trailer with counts and a SHA-256 over every byte before it.

`export_community` writes one from a running deployment; `read_bundle` reads one back, checking its
structure (not its signatures: `cos audit verify` does that).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import nats.errors
from nats.aio.client import Client as NATS

from shared.commands import CommandClient, CommandRejected, CommandUnavailable
from shared.envelope import EnvelopeError, peek_body
from shared.jetstream.errors import JetStreamAPIError, JetStreamError, StreamNotFound
from shared.jetstream.publisher import OutgoingMessage, PubAck, Publisher
from shared.jetstream.reader import StreamReader
from shared.subjects import check_token
from shared.transparency.layout import AUDIT_STREAM, COMMANDS, LOGGED_STREAMS, stream_prefix
from shared.trust.credentials import verify_credential
from shared.trust.datetimes import parse_datetime
from shared.trust.errors import TrustError
from shared.trust.fetching import FetchError
from shared.trust.resolver import DidResolver, default_resolver

__all__ = [
    "FORMAT",
    "STATUS_PURPOSES",
    "Bundle",
    "BundleError",
    "BundledCheckpoint",
    "BundledCommit",
    "BundledDidLog",
    "BundledStatusList",
    "ExportSummary",
    "ImportSummary",
    "bundle_resolver",
    "export_community",
    "import_community",
    "read_bundle",
    "write_bundle",
]

FORMAT = "cos.bundle.v1"
STATUS_PURPOSES = ("revocation", "suspension")
_RECORD_TYPES = ("key", "commit", "checkpoint", "did_log", "status_list", "end")


class BundleError(ValueError):
    """A bundle is unreadable or inconsistent; `line` is the 1-based line of the file, `stream` and
    `position` (0-based index of the commit in the community's stream) name the commit when there is one."""

    def __init__(
        self, message: str, *, line: int | None = None, stream: str | None = None, position: int | None = None
    ) -> None:
        where = []
        if line is not None:
            where.append(f"line {line}")
        if stream is not None:
            where.append(f"stream {stream}")
        if position is not None:
            where.append(f"position {position}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.reason = message
        self.line = line
        self.stream = stream
        self.position = position


@dataclass(frozen=True)
class BundledCommit:
    """One stored commit: its index in the community's stream, its original stream sequence, subject
    and the exact stored envelope bytes (the transparency log's leaf)."""

    position: int
    sequence: int
    subject: str
    data: bytes
    line: int = 0


@dataclass(frozen=True)
class BundledCheckpoint:
    """One signed C2SP checkpoint note of the community's log of `stream`, as published."""

    stream: str
    note: str
    line: int = 0


@dataclass(frozen=True)
class BundledDidLog:
    did: str
    log: str  # did:webvh JSON Lines, exactly as served at did.jsonl
    line: int = 0


@dataclass(frozen=True)
class BundledStatusList:
    purpose: str
    credential: dict[str, Any]
    line: int = 0


@dataclass
class Bundle:
    """A bundle read back. Commits are grouped by stream, each list in stream order."""

    community: str
    streams: list[str]
    header: dict[str, Any]
    keys: list[str] = field(default_factory=list)
    checkpoints: list[BundledCheckpoint] = field(default_factory=list)
    did_logs: list[BundledDidLog] = field(default_factory=list)
    status_lists: list[BundledStatusList] = field(default_factory=list)
    trailer: dict[str, Any] | None = None
    problems: list[BundleError] = field(default_factory=list)  # structural findings (lenient reads)
    _commits: dict[str, list[BundledCommit]] = field(default_factory=dict)

    def commits(self, stream: str) -> Sequence[BundledCommit]:
        return self._commits.get(stream, [])

    def all_commits(self) -> Iterator[tuple[str, BundledCommit]]:
        for stream in self.streams:
            for commit in self.commits(stream):
                yield stream, commit

    def checkpoints_of(self, stream: str) -> list[BundledCheckpoint]:
        return [c for c in self.checkpoints if c.stream == stream]

    @property
    def commit_count(self) -> int:
        return sum(len(v) for v in self._commits.values())


# -- reading ---------------------------------------------------------------------------------


def _b64(value: object, what: str, line: int) -> bytes:
    if not isinstance(value, str):
        raise BundleError(f"{what} is not a base64 string", line=line)
    try:
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise BundleError(f"{what} is not valid base64: {exc}", line=line) from exc


def _field(record: dict[str, Any], name: str, kind: type, line: int) -> Any:
    value = record.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BundleError(f"{record.get('type')} record needs {name!r} of type {kind.__name__}", line=line)
    return value


def read_bundle(path: Path | str, *, strict: bool = True) -> Bundle:
    """Read a bundle. Structural faults raise BundleError when `strict`; otherwise the readable rest
    is returned with every fault in `Bundle.problems` (what `cos audit verify` reports)."""
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise BundleError(f"cannot open {path}: {exc.strerror}") from exc
    with handle:
        return _read(handle, strict)


def _read(handle: IO[bytes], strict: bool) -> Bundle:
    digest = hashlib.sha256()
    problems: list[BundleError] = []

    def problem(error: BundleError) -> None:
        if strict:
            raise error
        problems.append(error)

    first = handle.readline()
    if not first:
        raise BundleError("the bundle is empty", line=1)
    try:
        header = json.loads(first)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"header is not JSON: {exc}", line=1) from exc
    if not isinstance(header, dict) or header.get("type") != FORMAT:
        raise BundleError(f"not a community bundle (the first line must have type {FORMAT!r})", line=1)
    community = _field(header, "community", str, 1)
    streams = _field(header, "streams", list, 1)
    if not all(isinstance(s, str) for s in streams) or len(set(streams)) != len(streams):
        raise BundleError("header streams must be distinct names", line=1)
    digest.update(first)
    bundle = Bundle(community=community, streams=list(streams), header=header, problems=problems)
    commits: dict[str, list[BundledCommit]] = {s: [] for s in streams}
    bundle._commits = commits
    line_no = 1
    for raw in handle:
        line_no += 1
        if bundle.trailer is not None:
            problem(BundleError("content after the end record", line=line_no))
            break
        try:
            record = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            problem(BundleError(f"not a JSON record: {exc}", line=line_no))
            digest.update(raw)
            continue
        kind = record.get("type") if isinstance(record, dict) else None
        if kind != "end":
            digest.update(raw)
        try:
            _record(bundle, commits, record, kind, line_no, digest, problem)
        except BundleError as exc:
            problem(exc)
    if bundle.trailer is None:
        problem(BundleError("the bundle has no end record: it is truncated", line=line_no + 1))
    return bundle


def _record(
    bundle: Bundle,
    commits: dict[str, list[BundledCommit]],
    record: Any,
    kind: object,
    line: int,
    digest: Any,
    problem: Any,
) -> None:
    if kind not in _RECORD_TYPES:
        raise BundleError(f"unknown record type {kind!r}", line=line)
    if kind == "commit":
        stream = _field(record, "stream", str, line)
        position = _field(record, "position", int, line)
        sequence = _field(record, "sequence", int, line)
        subject = _field(record, "subject", str, line)
        data = _b64(record.get("data"), "commit data", line)
        if stream not in commits:
            raise BundleError(f"commit of stream {stream!r}, not listed in the header", line=line)
        listed = commits[stream]
        expected = len(listed)
        if position != expected:
            problem(
                BundleError(
                    f"commit position {position} where {expected} was expected (a commit is "
                    "missing, duplicated or out of order)",
                    line=line,
                    stream=stream,
                    position=expected,
                )
            )
        if listed and sequence <= listed[-1].sequence:
            problem(
                BundleError(
                    f"stream sequence {sequence} does not follow {listed[-1].sequence}: out of order",
                    line=line,
                    stream=stream,
                    position=expected,
                )
            )
        parts = subject.split(".")
        if len(parts) != 4 or parts[1] != bundle.community or parts[0] != stream_prefix(stream):
            problem(
                BundleError(
                    f"subject {subject!r} is not {stream_prefix(stream)}.{bundle.community}.<aggregate>.<id>",
                    line=line,
                    stream=stream,
                    position=expected,
                )
            )
        listed.append(BundledCommit(expected, sequence, subject, data, line))
    elif kind == "key":
        bundle.keys.append(_field(record, "key", str, line))
    elif kind == "checkpoint":
        bundle.checkpoints.append(
            BundledCheckpoint(_field(record, "stream", str, line), _field(record, "note", str, line), line)
        )
    elif kind == "did_log":
        bundle.did_logs.append(
            BundledDidLog(_field(record, "did", str, line), _field(record, "log", str, line), line)
        )
    elif kind == "status_list":
        bundle.status_lists.append(
            BundledStatusList(
                _field(record, "purpose", str, line), _field(record, "credential", dict, line), line
            )
        )
    else:  # end
        bundle.trailer = record
        if record.get("sha256") != digest.hexdigest():
            problem(BundleError("the SHA-256 of the bundle's content differs from its end record", line=line))
        counts = record.get("commits")
        if isinstance(counts, dict):
            for stream, listed in commits.items():
                if counts.get(stream, 0) != len(listed):
                    problem(
                        BundleError(
                            f"the end record counts {counts.get(stream, 0)} commits, the bundle holds "
                            f"{len(listed)}",
                            line=line,
                            stream=stream,
                        )
                    )
        else:
            problem(BundleError("end record without commit counts", line=line))


# -- writing ---------------------------------------------------------------------------------


class _Writer:
    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._digest = hashlib.sha256()
        self.bytes = 0

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        if record["type"] != "end":
            self._digest.update(line)
        self._handle.write(line)
        self.bytes += len(line)

    def end(self, commits: dict[str, int], extra: dict[str, int]) -> None:
        self.write({"type": "end", "commits": commits, **extra, "sha256": self._digest.hexdigest()})


def write_bundle(
    out: Path,
    *,
    community: str,
    deployment: str,
    commits: dict[str, list[BundledCommit]],
    keys: Sequence[str] = (),
    checkpoints: Sequence[BundledCheckpoint] = (),
    did_logs: Sequence[BundledDidLog] = (),
    status_lists: Sequence[BundledStatusList] = (),
    exported_at: datetime | None = None,
) -> int:
    """Write a bundle atomically (temporary file, then rename); return its size in bytes."""
    streams = [s for s in LOGGED_STREAMS if s in commits] + sorted(set(commits) - set(LOGGED_STREAMS))
    moment = (exported_at or datetime.now(UTC)).astimezone(UTC)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer = _Writer(handle)
            writer.write(
                {
                    "type": FORMAT,
                    "community": community,
                    "deployment": deployment,
                    "exported_at": moment.isoformat().replace("+00:00", "Z"),
                    "streams": streams,
                    "documentation": "docs/formats/bundle.md",
                }
            )
            for key in keys:
                writer.write({"type": "key", "purpose": "checkpoint", "key": key})
            for stream in streams:
                for c in commits[stream]:
                    writer.write(
                        {
                            "type": "commit",
                            "stream": stream,
                            "position": c.position,
                            "sequence": c.sequence,
                            "subject": c.subject,
                            "data": base64.b64encode(c.data).decode(),
                        }
                    )
            for cp in checkpoints:
                writer.write({"type": "checkpoint", "stream": cp.stream, "note": cp.note})
            for d in did_logs:
                writer.write({"type": "did_log", "did": d.did, "log": d.log})
            for s in status_lists:
                writer.write({"type": "status_list", "purpose": s.purpose, "credential": s.credential})
            writer.end(
                {s: len(commits[s]) for s in streams},
                {
                    "checkpoints": len(checkpoints),
                    "did_logs": len(did_logs),
                    "status_lists": len(status_lists),
                },
            )
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(out)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    return writer.bytes


def bundle_resolver(did_logs: Sequence[BundledDidLog], now: datetime) -> DidResolver:
    """Resolves did:key, and the bundle's did:webvh DIDs from their bundled logs (never the network)."""
    logs = {d.did: d.log for d in did_logs}

    def fetch(url: str) -> bytes:
        for did, text in logs.items():
            parts = did.split(":")
            if len(parts) < 4 or not url.endswith("/did.jsonl"):
                continue
            host = parts[3].replace("%3A", ":")
            path = "/".join(parts[4:])
            if f"//{host}/{path + '/' if path else '.well-known/'}did.jsonl" in url:
                return text.encode()
        raise FetchError(f"{url} is not in the bundle")

    return default_resolver(webvh_fetcher=fetch, now=now)


# -- exporting from a deployment -------------------------------------------------------------


@dataclass(frozen=True)
class ExportSummary:
    community: str
    path: Path
    bytes: int
    commits: dict[str, int]
    checkpoints: int
    did_logs: int
    status_lists: int
    warnings: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "community": self.community,
            "path": str(self.path),
            "bytes": self.bytes,
            "commits": self.commits,
            "checkpoints": self.checkpoints,
            "did_logs": self.did_logs,
            "status_lists": self.status_lists,
            "warnings": self.warnings,
        }


async def _scan(
    nc: NATS, stream: str, subject: str, stop_seq: int | None = None
) -> list[tuple[int, str, bytes]]:
    reader = StreamReader(nc, stream)
    out: list[tuple[int, str, bytes]] = []
    try:
        async for page in reader.scan(1, subject, stop_seq=stop_seq):
            out.extend((m.seq, m.subject, m.data) for m in page)
    except StreamNotFound:
        return []
    return out


async def export_community(
    nc: NATS, community: str, out: Path, *, deployment: str | None = None, reply_within: float = 30.0
) -> ExportSummary:
    """Write the bundle of `community` to `out`: commits, checkpoints, keys, DID log, status lists.

    The transparency service is first asked for fresh checkpoints, and every stream's commits are
    cut at the size its latest checkpoint covers, so the bundle is one consistent, fully
    checkpointed snapshot. Without a transparency service, every commit is exported and the
    summary warns that the newest ones are not covered by a checkpoint.
    """
    check_token(community, "community")
    warnings: list[str] = []
    client = CommandClient(nc, timeout=reply_within)
    covered: dict[str, int] = {}
    try:
        reply = await client.call(COMMANDS, "checkpoint", {"community": community})
        covered = {str(k): int(v["size"]) for k, v in reply["streams"].items()}
        deployment = deployment or str(reply.get("deployment") or "")
    except CommandUnavailable:
        warnings.append("no transparency service answered: commits after the last checkpoint are not covered")
    commits: dict[str, list[BundledCommit]] = {}
    for stream in LOGGED_STREAMS:
        rows = await _scan(nc, stream, f"{stream_prefix(stream)}.{community}.>")
        if stream in covered:
            if len(rows) < covered[stream]:
                raise BundleError(
                    f"the checkpoint covers {covered[stream]} commits, the stream holds {len(rows)}",
                    stream=stream,
                )
            rows = rows[: covered[stream]]
        if rows:
            commits[stream] = [BundledCommit(i, seq, subj, data) for i, (seq, subj, data) in enumerate(rows)]
    if not commits:
        raise BundleError(f"the deployment holds no commit of {community}: no such community here")
    audit = await _scan(nc, AUDIT_STREAM, f"audit.{community}.*.*")
    keys: list[str] = []
    checkpoints: list[BundledCheckpoint] = []
    for _, subject, data in audit:
        _, _, kind, name = subject.split(".")
        if kind == "key":
            keys.append(data.decode())
        elif kind == "checkpoint":
            checkpoints.append(BundledCheckpoint(name.upper(), data.decode()))
    did_logs: list[BundledDidLog] = []
    status_lists: list[BundledStatusList] = []
    try:
        log_reply = await client.call("identity", "did_log", {"community": community})
        log_text = str(log_reply["log"])
        first = json.loads(log_text.splitlines()[0])
        did_logs.append(BundledDidLog(str(first["state"]["id"]), log_text))
        for purpose in STATUS_PURPOSES:
            credential = await client.call(
                "identity", "status_list", {"community": community, "purpose": purpose}
            )
            # Whether this deployment can sign for the DID is the question here, not the list's
            # validity window: judge it at the instant the list says it was issued.
            try:
                at = parse_datetime(credential.get("validFrom"))
            except (TrustError, TypeError, ValueError):
                at = datetime.now(UTC)
            try:
                verify_credential(credential, bundle_resolver(did_logs, at), now=at)
            except TrustError as exc:
                warnings.append(
                    f"the {purpose} status list signed here does not verify under the community's DID "
                    f"({exc}); omitted. A deployment that re-hosts a community does not hold the "
                    "community's key (docs/decisions/0017-transparency.md)"
                )
                continue
            status_lists.append(BundledStatusList(purpose, credential))
    except CommandRejected as exc:
        warnings.append(f"the community has no DID log or status lists ({exc})")
    except CommandUnavailable:
        warnings.append("no identity service answered: the bundle has no DID log or status lists")
    except (nats.errors.Error, JetStreamError) as exc:
        warnings.append(f"DID log or status lists unavailable: {exc!r}")
    size = write_bundle(
        out,
        community=community,
        deployment=deployment or "",
        commits=commits,
        keys=keys,
        checkpoints=checkpoints,
        did_logs=did_logs,
        status_lists=status_lists,
    )
    return ExportSummary(
        community=community,
        path=out,
        bytes=size,
        commits={s: len(v) for s, v in commits.items()},
        checkpoints=len(checkpoints),
        did_logs=len(did_logs),
        status_lists=len(status_lists),
        warnings=warnings,
    )


# -- importing into a deployment ---------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    community: str
    commits: dict[str, int]
    checkpoints: int
    keys: int

    def as_json(self) -> dict[str, Any]:
        return {
            "community": self.community,
            "commits": self.commits,
            "checkpoints": self.checkpoints,
            "keys": self.keys,
        }


async def import_community(nc: NATS, bundle: Bundle, *, reply_within: float = 30.0) -> ImportSummary:
    """Re-host a bundle's community on the deployment behind `nc`.

    First the bundle's verifier keys and checkpoints go to AUDIT (the log's history: this
    deployment's checkpointer then waits until the commits reach their size and extends the same
    trees, never signing a history of its own beside them). Then every commit is published again
    with its original envelope bytes (signatures unchanged) to its subject, in the bundle's order,
    each guarded by `Nats-Expected-Last-Subject-Sequence` so it lands right after its aggregate's
    previous commit, with `Nats-Msg-Id` = commit id.

    An interrupted import is resumed by importing the same bundle again: what the deployment
    already holds must be a prefix of the bundle (same bytes, same order), and only the rest is
    published. Raises BundleError when the deployment holds commits of the community that the
    bundle does not (it hosts the community already); nothing is written then.
    """
    community = bundle.community
    check_token(community, "community")
    present: dict[str, list[tuple[int, str, bytes]]] = {}
    for stream in bundle.streams:
        present[stream] = await _scan(nc, stream, f"{stream_prefix(stream)}.{community}.>")
        ours = bundle.commits(stream)
        held = present[stream]
        if len(held) > len(ours) or any(h[2] != c.data for h, c in zip(held, ours, strict=False)):
            first = next(
                (i for i, (h, c) in enumerate(zip(held, ours, strict=False)) if h[2] != c.data), len(ours)
            )
            raise BundleError(
                f"{community} already has commits in {stream} on this deployment that the bundle does not "
                "hold: it hosts the community already (a bundle is imported where the community is not, "
                "or where an import of this bundle was interrupted)",
                stream=stream,
                position=first,
            )
    for stream in set(LOGGED_STREAMS) - set(bundle.streams):
        extra = await _scan(nc, stream, f"{stream_prefix(stream)}.{community}.>")
        if extra:
            raise BundleError(
                f"{community} already has commits in {stream} on this deployment", stream=stream
            )
    audit = await _scan(nc, AUDIT_STREAM, f"audit.{community}.*.*")
    held_notes = {data for _, _, data in audit}
    publisher = Publisher(nc, reply_within)
    await publisher.start()
    counts: dict[str, int] = {}
    try:
        for key in bundle.keys:
            verifier = key.strip()
            parts = verifier.split("+", 2)
            kid = parts[1] if len(parts) == 3 else hashlib.sha256(key.encode()).hexdigest()[:8]
            if verifier.encode() not in held_notes:
                message = OutgoingMessage(f"audit.{community}.key.{kid}", verifier.encode(), {})
                await _publish(publisher, message, AUDIT_STREAM, None)
        for cp in bundle.checkpoints:
            if cp.note.encode() in held_notes:
                continue
            subject = f"audit.{community}.checkpoint.{stream_prefix(cp.stream)}"
            msg_id = hashlib.sha256(cp.note.encode()).hexdigest()
            message = OutgoingMessage(subject, cp.note.encode(), {"Nats-Msg-Id": msg_id})
            await _publish(publisher, message, AUDIT_STREAM, None)
        for stream in bundle.streams:
            heads: dict[str, int] = {}
            held = present[stream]
            for seq, subject, _ in held:
                heads[subject] = seq
            for commit in bundle.commits(stream)[len(held) :]:
                commit_id = _commit_id(commit, stream)
                ack = await _publish(
                    publisher,
                    OutgoingMessage(
                        commit.subject,
                        commit.data,
                        {
                            "Nats-Msg-Id": commit_id,
                            "Nats-Expected-Last-Subject-Sequence": str(heads.get(commit.subject, 0)),
                        },
                    ),
                    stream,
                    commit.position,
                )
                if ack.stream != stream:
                    raise BundleError(
                        f"{commit.subject} is stored by stream {ack.stream} here",
                        stream=stream,
                        position=commit.position,
                    )
                heads[commit.subject] = ack.seq
            counts[stream] = len(bundle.commits(stream)) - len(held)
    finally:
        await publisher.close()
    return ImportSummary(community, counts, len(bundle.checkpoints), len(bundle.keys))


def _commit_id(commit: BundledCommit, stream: str) -> str:
    try:
        _, body = peek_body(commit.data)
    except EnvelopeError as exc:
        raise BundleError(f"unreadable commit: {exc}", stream=stream, position=commit.position) from exc
    return body.commit_id


async def _publish(
    publisher: Publisher, message: OutgoingMessage, stream: str, position: int | None
) -> PubAck:
    try:
        return await publisher.publish(message)
    except JetStreamAPIError as exc:
        raise BundleError(
            f"the deployment refused {message.subject}: {exc.description}", stream=stream, position=position
        ) from exc
    except JetStreamError as exc:
        raise BundleError(
            f"publishing {message.subject} failed: {exc}", stream=stream, position=position
        ) from exc
