"""An introduction: proposed by a member between two contacts, consented (or declined) by each,
then connected (a group chat opens), left by the introducer, and rated by the two introduced."""

from __future__ import annotations

from typing import Any

from services.social.domain.events import (
    IntroducerLeft,
    IntroductionAnswered,
    IntroductionChatOpened,
    IntroductionConnected,
    IntroductionProposed,
    IntroductionRated,
)
from shared.domain import Aggregate, DomainError, applies

Document = dict[str, Any]
MAX_NOTE = 2000
MAX_ID = 58  # its chat is `intro-<id>`, and a conversation id has at most 64 characters


def introduction_id(community: str, introduction: str) -> str:
    return f"{community}.intro.{introduction}"


class Introduction(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.introduction = ""
        self.introducer = ""
        self.first = ""
        self.second = ""
        self.note = ""
        self.status = "new"  # proposed | declined | connected
        self.answers: dict[str, bool] = {}
        self.relationships: dict[str, Document] = {}  # party -> her signed RelationshipCredential
        self.chat = ""
        self.chat_status = ""
        self.introducer_left = False
        self.introducer_in_chat = False
        self.ratings: dict[str, int] = {}
        self.proposed_ns = 0
        self.connected_ns = 0

    @classmethod
    def propose(
        cls,
        community: str,
        introduction: str,
        *,
        introducer: str,
        first: str,
        second: str,
        note: str,
        statement: Document,
        now: int,
    ) -> Introduction:
        if not 0 < len(introduction) <= MAX_ID:
            raise DomainError("invalid_introduction", f"an introduction's id has 1-{MAX_ID} characters")
        if len({introducer, first, second}) != 3:
            raise DomainError("invalid_introduction", "an introduction joins two other members")
        if len(note) > MAX_NOTE:
            raise DomainError("invalid_introduction", f"a note has at most {MAX_NOTE} characters")
        intro = cls(introduction_id(community, introduction))
        intro.trigger(
            IntroductionProposed,
            now,
            introduction=introduction,
            introducer=introducer,
            first=first,
            second=second,
            note=note,
            statement=statement,
        )
        return intro

    @property
    def parties(self) -> tuple[str, str]:
        return (self.first, self.second)

    def other(self, party: str) -> str:
        return self.second if party == self.first else self.first

    @property
    def both_consented(self) -> bool:
        return all(self.answers.get(p) is True for p in self.parties)

    def require_party(self, actor: str) -> None:
        if actor not in self.parties:
            raise DomainError("not_introduced", "only the two people introduced may do this")

    def answer(
        self,
        party: str,
        consent: bool,
        reason: str,
        statement: Document,
        now: int,
        relationship: Document | None = None,
    ) -> None:
        self.require_party(party)
        if consent and relationship is None:
            raise DomainError("relationship_required", "consent carries your RelationshipCredential")
        if self.status != "proposed":
            raise DomainError("introduction_closed", f"this introduction is already {self.status}")
        if party in self.answers:
            raise DomainError("already_answered", "you have already answered this introduction")
        if len(reason) > MAX_NOTE:
            raise DomainError("invalid_introduction", f"a reason has at most {MAX_NOTE} characters")
        self.trigger(
            IntroductionAnswered,
            now,
            party=party,
            consent=consent,
            reason=reason,
            statement=statement,
            relationship=relationship if consent else None,
        )

    def connect(self, chat: str, now: int) -> None:
        if not self.both_consented or self.status != "proposed":
            raise DomainError("introduction_not_consented", "both people must consent first")
        self.trigger(IntroductionConnected, now, chat=chat, chat_status="opened" if chat else "pending")

    def chat_opened(self, chat: str, now: int) -> None:
        if self.status != "connected" or self.chat:
            raise DomainError("chat_exists", "this introduction's chat is already open")
        self.trigger(IntroductionChatOpened, now, chat=chat)

    def require_may_leave(self, actor: str) -> None:
        if actor != self.introducer:
            raise DomainError("not_the_introducer", "only the introducer bows out")
        if self.status != "connected":
            raise DomainError("introduction_not_connected", "bow out once both have connected")
        if self.introducer_left:
            raise DomainError("already_left", "you have already bowed out of this introduction")

    def leave(self, actor: str, note: str, statement: Document, now: int, *, chat_left: bool = False) -> None:
        self.require_may_leave(actor)
        self.trigger(IntroducerLeft, now, note=note[:MAX_NOTE], statement=statement, chat_left=chat_left)

    def rate(self, party: str, value: int, note: str, statement: Document, now: int) -> None:
        self.require_party(party)
        if self.status != "connected":
            raise DomainError("introduction_not_connected", "rate an introduction once it has connected you")
        if not 1 <= value <= 5:
            raise DomainError("invalid_rating", "a rating is 1 (not useful) to 5 (very valuable)")
        if len(note) > MAX_NOTE:
            raise DomainError("invalid_rating", f"a note has at most {MAX_NOTE} characters")
        self.trigger(IntroductionRated, now, party=party, value=value, note=note, statement=statement)

    @applies(IntroductionProposed)
    def _proposed(self, event: IntroductionProposed) -> None:
        self.introduction, self.introducer = event.introduction, event.introducer
        self.first, self.second, self.note = event.first, event.second, event.note
        self.status, self.proposed_ns = "proposed", event.occurred_ns

    @applies(IntroductionAnswered)
    def _answered(self, event: IntroductionAnswered) -> None:
        self.answers[event.party] = event.consent
        if event.relationship is not None:
            self.relationships[event.party] = event.relationship
        if not event.consent:
            self.status = "declined"

    @applies(IntroductionConnected)
    def _connected(self, event: IntroductionConnected) -> None:
        self.status, self.chat, self.chat_status = "connected", event.chat, event.chat_status
        self.introducer_in_chat = bool(event.chat)
        self.connected_ns = event.occurred_ns

    @applies(IntroductionChatOpened)
    def _chat_opened(self, event: IntroductionChatOpened) -> None:
        self.chat, self.chat_status = event.chat, "opened"
        self.introducer_in_chat = not self.introducer_left

    @applies(IntroducerLeft)
    def _left(self, event: IntroducerLeft) -> None:
        self.introducer_left = True
        self.introducer_in_chat = self.introducer_in_chat and not event.chat_left

    @applies(IntroductionRated)
    def _rated(self, event: IntroductionRated) -> None:
        self.ratings[event.party] = event.value
