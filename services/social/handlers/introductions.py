"""Introducer use cases: propose, consent or decline, connect (group chat + RelationshipCredentials),
bow out, rate; members' own relationship credentials; the network view.

Relationships are issued member to member (each side signs her RelationshipCredential on her own
device and hands it over with her consent), not by the community: the edge is the two members'
own claim about each other, verifiable without trusting the community's operator.
"""

from __future__ import annotations

from typing import Any

from services.social.adapters.chat import CHAT_ACTION, LEAVE_ACTION
from services.social.application import token
from services.social.domain.commands import (
    AnswerBody,
    LeaveBody,
    MemberQuery,
    ProposeBody,
    RateBody,
    RelationshipBody,
    RetryChatBody,
    Signed,
)
from services.social.domain.introduction import Introduction, introduction_id
from services.social.domain.relationship import Relationship, relationship_id
from services.social.handlers.base import HandlerBase
from shared.application import NotFound
from shared.clock import moment
from shared.domain import DomainError
from shared.retry import acted
from shared.trust.credentials import verify_credential
from shared.trust.dtg_edges import validate_relationship_credential
from shared.trust.errors import TrustError
from shared.trust.resolver import default_resolver

Document = dict[str, Any]
MAX_HOPS = 6


class IntroductionHandlers(HandlerBase):
    def checked_relationship(self, credential: Document, issuer: str, subject: str) -> Document:
        """A RelationshipCredential signed by `issuer` about `subject`, valid now."""
        try:
            verify_credential(credential, default_resolver(), now=moment(self.clock()))
            edge = validate_relationship_credential(credential)
        except TrustError as exc:
            raise DomainError(
                "invalid_relationship", f"the RelationshipCredential does not verify: {exc}"
            ) from exc
        if (edge.source, edge.target) != (issuer, subject):
            raise DomainError(
                "invalid_relationship", f"the RelationshipCredential must be from {issuer} about {subject}"
            )
        return credential

    @staticmethod
    def chat_request(intro: Introduction, actor: str, request: Document) -> Document:
        """Her signed request for the group chat of exactly the introduction's people (messaging
        checks the signature; here: that it asks for this chat and no other)."""
        body = request.get("body")
        members = set(intro.parties) | ({intro.introducer} if not intro.introducer_left else set())
        if (
            request.get("action") != CHAT_ACTION
            or request.get("actor") != actor
            or not isinstance(body, dict)
            or body.get("kind") != "group"
            or not isinstance(body.get("members"), list)
            or set(body["members"]) != members
        ):
            raise DomainError(
                "invalid_chat_request",
                f"the chat request is your signed {CHAT_ACTION} for a group of {sorted(members)}",
            )
        return request

    @staticmethod
    def leave_request(intro: Introduction, actor: str, request: Document) -> Document:
        """Her signed request to messaging that leaves exactly the two introduced in the chat."""
        body = request.get("body")
        if (
            request.get("action") != LEAVE_ACTION
            or request.get("actor") != actor
            or not isinstance(body, dict)
            or body.get("conversation") != intro.chat
            or not isinstance(body.get("members"), list)
            or set(body["members"]) != set(intro.parties)
        ):
            raise DomainError(
                "invalid_chat_request",
                f"the chat request is your signed {LEAVE_ACTION} of {intro.chat} "
                f"leaving {sorted(intro.parties)}",
            )
        return request

    def load_introduction(self, community: str, introduction: str) -> Introduction:
        token(introduction, "introduction")
        found = self.app.find(Introduction, introduction_id(community, introduction))
        if found is None:
            raise NotFound("unknown_introduction", f"there is no introduction {introduction} in {community}")
        return found

    def relationship(self, community: str, a: str, b: str) -> Relationship:
        ident = relationship_id(community, a, b)
        return self.app.find(Relationship, ident) or Relationship(ident)

    async def propose_introduction(self, command: Signed) -> dict[str, Any]:
        statement, body = await self.acting(command, "propose_introduction", ProposeBody)
        token(body.introduction, "introduction")
        for person in (body.first, body.second):
            record = await self.roster.member(statement.community, person)
            if record is None or not record.in_good_standing:
                raise DomainError("not_a_member", f"{person} is not a member in good standing")
        pair = {body.first, body.second}
        open_already = await self.query(
            lambda: [
                i.introduction
                for i in self.network.graph(statement.community).intros.values()
                if i.status == "proposed" and {i.first, i.second} == pair
            ]
        )
        if open_already:
            raise DomainError(
                "introduction_pending",
                "these two are already being introduced; their answers to that introduction come first",
            )
        ident = introduction_id(statement.community, body.introduction)
        if await self.run(self.app.find, Introduction, ident) is not None:
            raise DomainError("introduction_exists", f"an introduction {body.introduction} already exists")
        intro = Introduction.propose(
            statement.community,
            body.introduction,
            introducer=statement.actor,
            first=body.first,
            second=body.second,
            note=body.note,
            statement=statement.document,
            now=self.clock(),
        )
        await self.save(intro)
        return self.introduction_view(intro)

    async def answer_introduction(self, command: Signed) -> dict[str, Any]:
        """Consent (with her RelationshipCredential) or decline; the second consent connects them."""
        statement, body = await self.acting(command, "answer_introduction", AnswerBody)
        intro = await self.run(self.load_introduction, statement.community, body.introduction)
        intro.require_party(statement.actor)
        relationship = None
        if body.consent:
            if body.relationship is None:
                raise DomainError("relationship_required", "consent carries your RelationshipCredential")
            relationship = self.checked_relationship(
                body.relationship, statement.actor, intro.other(statement.actor)
            )
        now = self.clock()
        intro.answer(statement.actor, body.consent, body.reason, statement.document, now, relationship)
        if not intro.both_consented:
            await self.save(intro)
            return self.introduction_view(intro)
        chat = ""
        if body.chat is not None:
            request = self.chat_request(intro, statement.actor, body.chat)
            chat = await self.chats.open_group_chat(statement.community, request)
            acted()  # her signed chat request is spent: a lost race after this is not run again
        intro.connect(chat, now)
        edge = await self.run(self.relationship, statement.community, intro.first, intro.second)
        for party in intro.parties:
            edge.record(
                party, intro.other(party), intro.relationships[party], now, introduction=intro.introduction
            )
        await self.save(intro, edge)
        return self.introduction_view(intro)

    async def retry_introduction_chat(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "retry_introduction_chat")
        body = self.body(statement, RetryChatBody)
        intro = await self.run(self.load_introduction, statement.community, body.introduction)
        if statement.actor not in (*intro.parties, intro.introducer):
            raise DomainError("not_introduced", "only the people of this introduction may do this")
        if intro.status != "connected" or intro.chat:
            raise DomainError("chat_exists", "this introduction has no pending chat")
        chat = await self.chats.open_group_chat(
            statement.community, self.chat_request(intro, statement.actor, body.chat)
        )
        acted()
        if not chat:
            raise DomainError("chat_unavailable", "messaging cannot open the chat now; it stays pending")
        intro.chat_opened(chat, self.clock())
        await self.save(intro)
        return self.introduction_view(intro)

    async def leave_introduction(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "leave_introduction")
        body = self.body(statement, LeaveBody)
        intro = await self.run(self.load_introduction, statement.community, body.introduction)
        intro.require_may_leave(statement.actor)
        chat_left = False
        if body.chat is not None and intro.introducer_in_chat:
            request = self.leave_request(intro, statement.actor, body.chat)
            chat_left = await self.chats.leave_group_chat(statement.community, request)
            acted()
        intro.leave(statement.actor, body.note, statement.document, self.clock(), chat_left=chat_left)
        await self.save(intro)
        return self.introduction_view(intro)

    async def rate_introduction(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "rate_introduction")
        body = self.body(statement, RateBody)
        intro = await self.run(self.load_introduction, statement.community, body.introduction)
        intro.rate(statement.actor, body.value, body.note, statement.document, self.clock())
        await self.save(intro)
        return self.introduction_view(intro)

    async def record_relationship(self, command: Signed) -> dict[str, Any]:
        """A member hands over the RelationshipCredential she signed about another member."""
        statement, body = await self.acting(command, "record_relationship", RelationshipBody)
        subject = body.credential.get("credentialSubject")
        other = subject.get("id") if isinstance(subject, dict) else None
        if not isinstance(other, str):
            raise DomainError("invalid_relationship", "credentialSubject.id names the other member")
        credential = self.checked_relationship(body.credential, statement.actor, other)
        await self.member(statement.community, other)
        edge = await self.run(self.relationship, statement.community, statement.actor, other)
        edge.record(statement.actor, other, credential, self.clock(), statement=statement.document)
        await self.save(edge)
        return {"with": other, "status": "connected" if edge.mutual else "pending"}

    async def get_introduction(self, query: MemberQuery, introduction: str) -> dict[str, Any]:
        token(query.community, "community")
        intro = await self.run(self.load_introduction, query.community, introduction)
        if query.member not in (*intro.parties, intro.introducer):
            raise NotFound("unknown_introduction", f"there is no introduction {introduction} of yours")
        return self.introduction_view(intro)

    async def network_of(self, query: MemberQuery) -> dict[str, Any]:
        await self.member(query.community, query.member)
        return await self.query(lambda: self.network.network(query.community, query.member, MAX_HOPS))

    @staticmethod
    def introduction_view(intro: Introduction) -> dict[str, Any]:
        return {
            "introduction": intro.introduction,
            "introducer": intro.introducer,
            "people": list(intro.parties),
            "note": intro.note,
            "status": intro.status,
            "answers": dict(intro.answers),
            "chat": intro.chat or None,
            "chat_status": intro.chat_status or None,
            "introducer_left": intro.introducer_left,
            "introducer_in_chat": intro.introducer_in_chat,
            "ratings": dict(intro.ratings),
        }
