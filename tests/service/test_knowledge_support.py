"""Set-up shared by the knowledge service tests (no tests here): a real nats-server, a roster
held in memory, members' signed statements, and contract events appended as other services would."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import msgspec
import nats
import pytest
from nats.aio.client import Client as NATS

from services.governance.subjects import SUBJECTS as GOVERNANCE
from services.knowledge.adapters.embeddings import CachedEmbedder, shared_embedder
from services.knowledge.adapters.roster import StaticRoster
from services.knowledge.bootstrap import KnowledgeService, start_knowledge
from services.knowledge.config import KnowledgeSettings
from services.knowledge.domain.access import Viewer
from services.knowledge.domain.commands import Ask, Signed, Upload
from services.messaging.subjects import SUBJECTS as MESSAGING
from shared.envelope import EventRecord
from shared.jetstream.store import EventStore
from shared.jetstream.streams import StreamSettings
from shared.natsserver import NatsServer
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.subjects import StreamSubjects
from shared.testkit.polling import eventually
from shared.trust.member_keys import MemberKeys


def person() -> MemberKeys:
    return MemberKeys(SigningKey.generate())


def slug() -> str:
    return f"k{uuid.uuid4().hex[:10]}"


def statement(keys: MemberKeys, action: str, community: str, body: dict[str, Any]) -> dict[str, Any]:
    return sign_statement(
        keys, action=f"knowledge.{action}", community=community, body=body,
        nonce=secrets.token_hex(16), now=datetime.now(tz=UTC),
    )  # fmt: skip


def upload(
    keys: MemberKeys,
    community: str,
    title: str,
    data: bytes,
    *,
    read_roles: list[str] | None = None,
    document: str | None = None,
    action: str = "add_document",
    filename: str = "",
    media_type: str = "",
) -> Upload:
    body: dict[str, Any] = {"title": title, "sha256": hashlib.sha256(data).hexdigest(), "filename": filename}
    if media_type:
        body["media_type"] = media_type  # the declared content type (the browser's File.type)
    if read_roles:
        body["read_roles"] = read_roles
    if document:
        body["document"] = document
    signed = statement(keys, action, community, body)
    return Upload(community=community, statement=signed, content=base64.b64encode(data).decode())


def signed(keys: MemberKeys, action: str, community: str, body: dict[str, Any]) -> Signed:
    return Signed(community=community, statement=statement(keys, action, community, body))


def ask(community: str, keys: MemberKeys, question: str, **options: Any) -> Ask:
    return Ask(community=community, member=keys.did, question=question, **options)


_embedder: CachedEmbedder | None = None


def embedder() -> CachedEmbedder:
    """One model and one vector cache for the whole test session (the model loads in ~1 s)."""
    global _embedder
    if _embedder is None:
        _embedder = CachedEmbedder(shared_embedder(), None)
    return _embedder


@dataclass
class Community:
    slug: str
    service: KnowledgeService
    roster: StaticRoster
    admin: MemberKeys
    member: MemberKeys

    def join(
        self, roles: tuple[str, ...] = ("member",), standing: str = "active", **extra: Any
    ) -> MemberKeys:
        keys = person()
        self.roster.put(self.slug, Viewer(keys.did, standing, frozenset(roles), **extra))
        return keys

    def set(self, keys: MemberKeys, roles: tuple[str, ...] = ("member",), standing: str = "active") -> None:
        self.roster.put(self.slug, Viewer(keys.did, standing, frozenset(roles)))


async def start_community(
    nc: NATS, nats_url: str, settings: KnowledgeSettings | None = None, *, dense: bool = True
) -> Community:
    community = slug()
    roster = StaticRoster()
    base = settings or KnowledgeSettings()
    # This test's community only; and an upload waits for its own commit to be searchable longer
    # than a deployment's default, so that on a loaded machine it is before the tests read it.
    scoped = replace(base, communities=(community,), index_wait_s=60.0)
    service = await start_knowledge(
        nc, nats_url, None, scoped, roster=roster, embedder=embedder() if dense else None, dense=dense
    )
    admin, member = person(), person()
    roster.put(community, Viewer(admin.did, "active", frozenset({"admin", "member"})))
    roster.put(community, Viewer(member.did, "active", frozenset({"member"})))
    return Community(community, service, roster, admin, member)


@pytest.fixture
async def private_nc(own_nats_server: NatsServer) -> AsyncIterator[NATS]:
    """A client of this test's own server: synthetic MESSAGING and GOVERNANCE events (and forged
    ones) never reach the streams the real messaging and governance services replay in other tests."""
    client = await nats.connect(own_nats_server.url, name="knowledge-test")
    yield client
    await client.close()


@pytest.fixture
async def know(private_nc: NATS, own_nats_server: NatsServer) -> AsyncIterator[Community]:
    community = await start_community(private_nc, own_nats_server.url)
    try:
        yield community
    finally:
        await community.service.stop()


class Producer:
    """Appends contract events the way messaging and governance do (msgpack maps tagged by type)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.versions: Counter[str] = Counter()

    @classmethod
    async def open(cls, nc: NATS, subjects: StreamSubjects) -> Producer:
        return cls(await EventStore(nc, StreamSettings(subjects), SigningKey.generate()).start())

    async def emit(self, community: str, aggregate: str, ident: str, topic: str, **fields: Any) -> int:
        originator = f"{community}.{aggregate}.{ident}"
        self.versions[originator] += 1
        version = self.versions[originator]
        state = msgspec.msgpack.encode(
            {"type": topic, "originator_id": originator, "originator_version": version, "occurred_ns": 1}
            | fields
        )
        commit = self.store.new_commit(
            community=community, aggregate=aggregate, ident=ident, originator_id=originator,
            events=[EventRecord(topic, version, state)],
        )  # fmt: skip
        (seq,) = await self.store.append([commit])
        return seq

    async def close(self) -> None:
        await self.store.close()


@pytest.fixture
async def messaging(private_nc: NATS) -> AsyncIterator[Producer]:
    producer = await Producer.open(private_nc, MESSAGING)
    yield producer
    await producer.close()


@pytest.fixture
async def governance(private_nc: NATS) -> AsyncIterator[Producer]:
    producer = await Producer.open(private_nc, GOVERNANCE)
    yield producer
    await producer.close()


async def indexed(community: Community, stream: str, seq: int) -> None:
    assert await community.service.indexer.wait_for(stream, seq, 60.0), f"{stream}#{seq} was not indexed"


def keys_of(result: dict[str, Any]) -> list[str]:
    return [p["source"]["key"] for p in result["passages"]]


__all__ = ["eventually"]


def tiny_pdf(*lines: str) -> bytes:
    """A valid one-page PDF showing `lines` in Helvetica (built by hand: a real file, no library)."""
    text = " ".join(f"({line}) Tj T*" for line in lines)
    stream = f"BT /F1 12 Tf 14 TL 72 720 Td {text} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
