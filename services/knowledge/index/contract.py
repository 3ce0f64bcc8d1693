"""The content-event contract, decoded without importing the producers' classes.

Each event of a commit is a msgpack map tagged by `type`; a community is the second subject
token. A commit turns into index operations: put a source, withdraw it (hidden, removed), bring
it back (restored), forget it (deleted), or set a category's read roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from services.knowledge.domain.access import AccessRule
from services.knowledge.index.sources import Citation, Source
from shared.jetstream.store import StoredCommit

MAX_TEXT = 400_000


@dataclass(frozen=True)
class Put:
    source: Source


@dataclass(frozen=True)
class Withdraw:
    community: str
    key: str


@dataclass(frozen=True)
class Restore:
    community: str
    key: str
    citation: Citation


@dataclass(frozen=True)
class Forget:
    community: str
    key: str


@dataclass(frozen=True)
class CategoryRead:
    community: str
    category: str
    read_roles: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class ThreadTitle:
    community: str
    thread: str
    title: str


Operation = Put | Withdraw | Restore | Forget | CategoryRead | ThreadTitle


class Undecodable(ValueError):
    """An event of a known type without the fields the contract promises."""


@dataclass
class Memory:
    """What decoding one event needs from earlier ones: thread titles for replies, poll titles and
    results for outcomes (keys are (community, id))."""

    thread_titles: dict[tuple[str, str], str] = field(default_factory=dict)
    poll_titles: dict[tuple[str, str], str] = field(default_factory=dict)
    poll_results: dict[tuple[str, str], str] = field(default_factory=dict)
    poll_outcomes: dict[tuple[str, str], str] = field(default_factory=dict)
    poll_times: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # a meeting poll's times


def _text(fields: dict[str, Any], name: str, default: str | None = None) -> str:
    value = fields.get(name, default)
    if not isinstance(value, str):
        if default is not None and value is None:
            return default
        raise Undecodable(f"field {name!r} must be a string")
    return value[:MAX_TEXT]


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise Undecodable("expected a list of strings")
    return tuple(value)


def decode_commit(stored: StoredCommit, stream: str, memory: Memory) -> list[Operation]:
    """Index operations for one commit; events outside the contract are skipped."""
    commit = stored.commit
    community = commit.community
    out: list[Operation] = []
    for record in commit.events:
        handler = _HANDLERS.get(record.topic)
        if handler is None:
            continue
        try:
            fields = msgspec.msgpack.decode(record.state)
        except msgspec.DecodeError as exc:
            raise Undecodable(f"{record.topic} at {stored.subject}#{stored.seq}: {exc}") from exc
        if not isinstance(fields, dict):
            raise Undecodable(f"{record.topic} at {stored.subject}#{stored.seq} is not a map")
        citation = Citation(
            stream=stream,
            subject=stored.subject,
            seq=stored.seq,
            commit_id=commit.commit_id,
            signer=commit.signer,
            topic=record.topic,
            timestamp_ns=commit.timestamp_ns,
        )
        out.extend(handler(community, fields, citation, memory))
    return out


Handler = Callable[[str, dict[str, Any], Citation, Memory], list[Operation]]


def _announcement(community: str, f: dict[str, Any], c: Citation, _: Any) -> list[Operation]:
    audience = f.get("audience") or {}
    if not isinstance(audience, dict):
        raise Undecodable("audience must be a map")
    rule = AccessRule(
        roles=tuple(sorted(set(_strings(audience.get("roles"))))),
        types=tuple(sorted(set(_strings(audience.get("types"))))),
        tags=tuple(sorted(set(_strings(audience.get("tags"))))),
    )
    ident = _text(f, "announcement")
    source = Source(
        key=f"announcement:{ident}",
        community=community,
        kind="announcement",
        title=_text(f, "title", ""),
        text=_text(f, "body"),
        author=_text(f, "by", ""),
        rule=rule,
        citation=c,
    )
    return [Put(source)]


def _category(community: str, f: dict[str, Any], c: Citation, _: Any) -> list[Operation]:
    return [
        CategoryRead(community, _text(f, "category"), _strings(f.get("read_roles")), _text(f, "name", ""))
    ]


def _post(community: str, f: dict[str, Any], c: Citation, memory: Memory) -> list[Operation]:
    post, thread, title = _text(f, "post"), _text(f, "thread", ""), _text(f, "title", "")
    ops: list[Operation] = []
    if title:
        ops.append(ThreadTitle(community, thread, title))
        memory.thread_titles[(community, thread)] = title
    heading = title or memory.thread_titles.get((community, thread), "")
    source = Source(
        key=f"post:{post}",
        community=community,
        kind="post",
        title=heading,
        text=_text(f, "body"),
        author=_text(f, "by", ""),
        rule=AccessRule.for_category(_text(f, "category")),
        citation=c,
        heading=heading,
    )
    ops.append(Put(source))
    return ops


def _post_withdrawn(community: str, f: dict[str, Any], c: Citation, _: Any) -> list[Operation]:
    return [Withdraw(community, f"post:{_text(f, 'post')}")]


def _post_restored(community: str, f: dict[str, Any], c: Citation, _: Any) -> list[Operation]:
    return [Restore(community, f"post:{_text(f, 'post')}", c)]


def _poll_source(community: str, poll: str, title: str, text: str, by: str, c: Citation) -> Put:
    return Put(
        Source(
            key=f"poll:{poll}", community=community, kind="poll", title=title, text=text or title,
            author=by, rule=AccessRule.everyone(), citation=c,
        )
    )  # fmt: skip


def _poll(community: str, f: dict[str, Any], c: Citation, memory: Memory) -> list[Operation]:
    """`poll_opened` as the contract states it (title, description, kind); without a title it is
    only the opening of a poll `poll_created` described, and adds nothing to index."""
    title = _text(f, "title", "")
    if not title:
        return []
    poll, kind = _text(f, "poll", "") or _ident(c), _text(f, "kind", "")
    memory.poll_titles[(community, poll)] = title
    text = _text(f, "description", "") + (f"\n\n(poll kind: {kind})" if kind else "")
    return [_poll_source(community, poll, title, text.strip(), _text(f, "by", ""), c)]


def _poll_created(community: str, f: dict[str, Any], c: Citation, memory: Memory) -> list[Operation]:
    """Governance's own record of a new poll: the question lives in `spec`."""
    spec = f.get("spec") or {}
    if not isinstance(spec, dict):
        raise Undecodable("spec must be a map")
    poll, title = _text(f, "poll", "") or _ident(c), _text(spec, "title", "")
    memory.poll_titles[(community, poll)] = title
    kind = _text(spec, "kind", "")
    text = _text(spec, "description", "") + (f"\n\n(poll kind: {kind})" if kind else "")
    times = spec.get("options")
    if kind == "meeting" and isinstance(times, list) and all(isinstance(t, str) for t in times):
        memory.poll_times[(community, poll)] = times
        text += "\n\nProposed meeting times: " + ", ".join(times)
    return [_poll_source(community, poll, title, text.strip(), _text(f, "by", ""), c)]


def _summary(result: Any) -> str:
    if not isinstance(result, dict) or not result:
        return ""
    parts = [
        f"{k}: {v}"
        for k, v in list(result.items())[:50]
        if not isinstance(v, dict | list) or len(str(v)) < 200
    ]
    return ("Result: " + "; ".join(parts))[:2000] if parts else ""


def _outcome_source(community: str, poll: str, by: str, c: Citation, memory: Memory) -> Put:
    key = (community, poll)
    text = "\n\n".join(t for t in (memory.poll_outcomes.get(key, ""), memory.poll_results.get(key, "")) if t)
    return Put(
        Source(
            key=f"outcome:{poll}", community=community, kind="outcome", title=memory.poll_titles.get(key, ""),
            text=text, author=by, rule=AccessRule.everyone(), citation=c,
        )
    )  # fmt: skip


def _outcome(community: str, f: dict[str, Any], c: Citation, memory: Memory) -> list[Operation]:
    poll = _text(f, "poll", "") or _ident(c)
    key = (community, poll)
    if title := _text(f, "title", ""):
        memory.poll_titles[key] = title
    memory.poll_outcomes[key] = _text(f, "outcome")
    memory.poll_results[key] = _summary(f.get("result"))
    return [_outcome_source(community, poll, _text(f, "by", ""), c, memory)]


def _results_recorded(community: str, f: dict[str, Any], c: Citation, memory: Memory) -> list[Operation]:
    poll = _ident(c)
    memory.poll_results[(community, poll)] = _summary(f.get("result"))
    return [_outcome_source(community, poll, "", c, memory)]


def _outcome_stated(community: str, f: dict[str, Any], c: Citation, memory: Memory) -> list[Operation]:
    poll = _ident(c)
    text = _text(f, "text")
    slot, times = f.get("slot"), memory.poll_times.get((community, poll), [])
    if isinstance(slot, int) and 0 <= slot < len(times):  # a meeting poll's outcome fixed the meeting
        where = _text(f, "location", "")
        text += f"\n\nMeeting time: {times[slot]}" + (f", location: {where}" if where else "")
    memory.poll_outcomes[(community, poll)] = text
    return [_outcome_source(community, poll, _text(f, "by", ""), c, memory)]


def _ident(c: Citation) -> str:
    """The aggregate id: the last token of the commit's subject."""
    return c.subject.rsplit(".", 1)[-1]


def _document(community: str, f: dict[str, Any], c: Citation, _: Any) -> list[Operation]:
    source = Source(
        key=f"document:{_text(f, 'document')}",
        community=community,
        kind="document",
        title=_text(f, "title", ""),
        text=_text(f, "text"),
        author=_text(f, "by", ""),
        rule=AccessRule.for_roles(_strings(f.get("read_roles"))),
        citation=c,
    )
    return [Put(source)]


def _document_deleted(community: str, f: dict[str, Any], c: Citation, _: Any) -> list[Operation]:
    return [Forget(community, f"document:{_text(f, 'document')}")]


_HANDLERS: dict[str, Handler] = {
    "messaging.announcement_sent.v1": _announcement,
    "messaging.category_created.v1": _category,
    "messaging.category_configured.v1": _category,
    "messaging.post_created.v1": _post,
    "messaging.post_edited.v1": _post,
    "messaging.post_removed.v1": _post_withdrawn,
    "messaging.post_hidden.v1": _post_withdrawn,
    "messaging.post_restored.v1": _post_restored,
    "governance.poll_opened.v1": _poll,
    "governance.outcome_recorded.v1": _outcome,
    # what the governance service records today, beside the contract's two events
    "governance.poll_created.v1": _poll_created,
    "governance.results_recorded.v1": _results_recorded,
    "governance.outcome_stated.v1": _outcome_stated,
    "knowledge.document_added.v1": _document,
    "knowledge.document_revised.v1": _document,
    "knowledge.document_deleted.v1": _document_deleted,
}
TOPICS = frozenset(_HANDLERS)
