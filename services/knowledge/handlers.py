"""Use cases of the knowledge service: ask, search, and the library's signed acts."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from services.knowledge.adapters.embeddings import Embedder
from services.knowledge.adapters.extraction import extract
from services.knowledge.adapters.llm import ChatEndpoint
from services.knowledge.adapters.roster import Roster
from services.knowledge.answers import extractive, generated, passages_view
from services.knowledge.config import KnowledgeSettings
from services.knowledge.domain.access import AccessRule, Viewer
from services.knowledge.domain.commands import Ask, LibraryQuery, Signed, Upload
from services.knowledge.domain.document import Content, Document
from services.knowledge.domain.errors import Forbidden, InvalidRequest, Unavailable
from services.knowledge.domain.events import REGISTRY
from services.knowledge.domain.library import Library
from services.knowledge.index.indexer import Indexer
from services.knowledge.retrieval import Method, describe_source, retrieve
from shared.domain import Aggregate, DomainError
from shared.envelope import EventRecord
from shared.eventcodec import EventCodec
from shared.jetstream.errors import ConcurrencyConflict
from shared.jetstream.store import EventStore
from shared.statements import Nonces, StatementRejected, VerifiedStatement, verify_statement
from shared.subjects import InvalidSubject, check_token

A = TypeVar("A", bound=Aggregate)
MAX_LIMIT = 20
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class StatementRefused(DomainError):
    status = 401


class KnowledgeHandlers:
    def __init__(
        self,
        store: EventStore,
        indexer: Indexer,
        roster: Roster,
        nonces: Nonces,
        settings: KnowledgeSettings,
        embedder: Embedder | None,
        llm: ChatEndpoint | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.store = store
        self.indexer = indexer
        self.roster = roster
        self.nonces = nonces
        self.settings = settings
        self.embedder = embedder
        self.llm = llm
        self.clock = clock
        self.codec = EventCodec(REGISTRY)

    # -- reading -------------------------------------------------------------------------------

    async def member(self, community: str, did: str) -> Viewer:
        _community(community)
        viewer = await self.roster.viewer(community, did)
        if not viewer.in_good_standing:
            raise Forbidden(
                "not_a_member", f"only members of {community} in good standing may use its knowledge"
            )
        return viewer

    async def ask(self, query: Ask) -> dict[str, Any]:
        question = self._question(query.question)
        if query.mode == "generated" and self.llm is None:
            raise Unavailable("generation_not_configured", "this deployment has no answer model configured")
        viewer = await self.member(query.community, query.member)
        hits = await self._retrieve(query, viewer, question, Method(query.method))
        if self.llm is not None and query.mode != "extractive":
            return await generated(question, hits, self.llm)
        return extractive(question, hits)

    async def search(self, query: Ask) -> dict[str, Any]:
        question = self._question(query.question)
        viewer = await self.member(query.community, query.member)
        hits = await self._retrieve(query, viewer, question, Method(query.method))
        return {"query": question, "method": query.method, "passages": passages_view(hits, question)}

    async def library(self, query: LibraryQuery) -> dict[str, Any]:
        viewer = await self.member(query.community, query.member)
        library = await self._load(Library, query.community, "library", "settings")
        may_upload = library.may_upload(viewer)
        settings = {"may_upload": may_upload, "uploader_roles": list(library.uploader_roles)}
        index = self.indexer.indexes.get(query.community)
        if index is None:
            return {"documents": []} | settings
        readable = set(index.readable_rules(viewer))
        documents = [
            describe_source(s)
            | {
                "document": s.key.partition(":")[2],  # the id its revise and delete acts name
                "read_roles": list(s.rule.roles),
                # Whether the app offers her to revise or delete it (the service checks again).
                "may_change": viewer.in_good_standing and (viewer.is_admin or s.author == viewer.did),
            }
            for s in index.sources.values()
            if s.kind == "document" and s.rule.key in readable
        ]
        return {"documents": sorted(documents, key=lambda d: d["title"].lower())} | settings

    def _question(self, text: str) -> str:
        question = text.strip()
        if not question:
            raise InvalidRequest("invalid_request", "ask a question")
        if len(question) > self.settings.max_question_chars:
            raise InvalidRequest(
                "question_too_long", f"questions are at most {self.settings.max_question_chars} characters"
            )
        return question

    async def _retrieve(self, query: Ask, viewer: Viewer, question: str, method: Method) -> list[Any]:
        if not 1 <= query.limit <= MAX_LIMIT:
            raise InvalidRequest("invalid_request", f"limit must be 1-{MAX_LIMIT}")
        vector = None
        if method is not Method.bm25 and self.embedder is not None:
            vector = (await asyncio.to_thread(self.embedder.embed, [question]))[0]
        index = self.indexer.indexes.get(query.community)
        return retrieve(index, viewer, question, self.embedder, method, query.limit, vector)

    # -- the library's acts ----------------------------------------------------------------------

    async def configure_library(self, command: Signed) -> dict[str, Any]:
        statement, viewer = await self._act(command, "configure_library")
        roles = statement.body.get("uploader_roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidRequest("invalid_request", "uploader_roles must be a list of role names")
        library = await self._load(Library, command.community, "library", "settings")
        library.configure(viewer, roles, self.clock(), statement.document)
        await self._commit(statement, library, command.community, "library", "settings")
        return {"uploader_roles": list(library.uploader_roles)}

    async def add_document(self, command: Upload) -> dict[str, Any]:
        statement, viewer = await self._act(command, "add_document")
        library = await self._load(Library, command.community, "library", "settings")
        if not library.may_upload(viewer):
            others = [role for role in library.uploader_roles if role != "admin"]
            raise Forbidden(
                "may_not_upload",
                f"only admins and members with the role {' or '.join(others)} may add documents"
                if others
                else "only admins may add documents",
            )
        ident = (
            statement.body.get("document")
            or hashlib.sha256(f"{statement.actor}\n{statement.nonce}".encode()).hexdigest()[:24]
        )
        document = await self._load(Document, command.community, "document", _document_id(ident))
        document.add(viewer, self._content(command, statement), self.clock(), statement.document)
        seq = await self._commit(statement, document, command.community, "document", document.key)
        return await self._indexed(document.key, seq)

    async def revise_document(self, command: Upload) -> dict[str, Any]:
        statement, viewer = await self._act(command, "revise_document")
        document = await self._load(
            Document, command.community, "document", _document_id(statement.body.get("document"))
        )
        document.revise(viewer, self._content(command, statement), self.clock(), statement.document)
        seq = await self._commit(statement, document, command.community, "document", document.key)
        return await self._indexed(document.key, seq)

    async def delete_document(self, command: Signed) -> dict[str, Any]:
        statement, viewer = await self._act(command, "delete_document")
        document = await self._load(
            Document, command.community, "document", _document_id(statement.body.get("document"))
        )
        reason = statement.body.get("reason") or ""
        document.delete(viewer, str(reason), self.clock(), statement.document)
        seq = await self._commit(statement, document, command.community, "document", document.key)
        return await self._indexed(document.key, seq) | {"deleted": True}

    async def _act(self, command: Signed | Upload, action: str) -> tuple[VerifiedStatement, Viewer]:
        _community(command.community)
        try:
            statement = verify_statement(
                command.statement,
                action=f"knowledge.{action}",
                community=command.community,
                now=datetime.fromtimestamp(self.clock() / 1e9, tz=UTC),
            )
        except StatementRejected as exc:
            raise StatementRefused(str(exc.code), exc.message) from exc
        viewer = await self.member(command.community, statement.actor)
        return statement, viewer

    def _content(self, command: Upload, statement: VerifiedStatement) -> Content:
        body = statement.body
        try:
            data = base64.b64decode(command.content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest("invalid_request", "content must be base64") from exc
        if hashlib.sha256(data).hexdigest() != body.get("sha256"):
            raise InvalidRequest("content_mismatch", "the content is not the file whose sha256 was signed")
        filename = str(body.get("filename") or "")[:200]
        declared = str(body.get("media_type") or "")[:200]  # the uploader's claim; the bytes decide
        extracted = extract(
            data, filename, self.settings.max_upload_bytes, self.settings.max_text_chars, declared
        )
        roles = body.get("read_roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) and 0 < len(r) <= 64 for r in roles):
            raise InvalidRequest("invalid_request", "read_roles must be a list of role names")
        return Content(
            title=str(body.get("title") or filename or "")[:400],
            filename=filename,
            media_type=extracted.media_type,
            size=extracted.size,
            sha256=extracted.sha256,
            text=extracted.text,
            read_roles=AccessRule.for_roles(roles).roles,
        )

    async def _load(self, cls: type[A], community: str, kind: str, ident: str) -> A:
        subject = self.store.subjects.aggregate(community, kind, ident)
        commits = await self.store.read_aggregate(subject)
        events = [self.codec.decode(r.topic, r.state) for c in commits for r in c.commit.events]
        return cls.replay(None, events) or cls(f"{community}.{kind}.{ident}")

    async def _commit(
        self, statement: VerifiedStatement, aggregate: Aggregate, community: str, kind: str, ident: str
    ) -> int:
        records = []
        for event in aggregate.collect_events():
            topic, state = self.codec.encode(event)
            records.append(EventRecord(topic, event.originator_version, state))
        commit = self.store.new_commit(
            community=community, aggregate=kind, ident=ident, originator_id=aggregate.id, events=records
        )
        try:  # after every check, so a refused statement can be corrected and sent again
            await self.nonces.claim(statement)
        except StatementRejected as exc:
            raise StatementRefused(str(exc.code), exc.message) from exc
        try:
            (seq,) = await self.store.append([commit])
        except ConcurrencyConflict as exc:
            raise DomainError("conflict", "changed concurrently; read it again and retry") from exc
        return seq

    async def _indexed(self, document: str, seq: int) -> dict[str, Any]:
        ready = await self.indexer.wait_for("KNOWLEDGE", seq, self.settings.index_wait_s)
        return {"document": document, "seq": seq, "searchable": ready}


def _community(community: str) -> None:
    try:
        check_token(community, "community")
    except InvalidSubject as exc:
        raise InvalidRequest("invalid_request", str(exc)) from exc


def _document_id(value: Any) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise InvalidRequest("invalid_request", "document ids are 1-64 characters of A-Z a-z 0-9 _ -")
    return value
