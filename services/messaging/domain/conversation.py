"""A chat conversation: an open channel, a private group or a direct conversation of two."""

from __future__ import annotations

from collections.abc import Iterable

from services.messaging.domain.bans import Bans
from services.messaging.domain.category import roles_allow
from services.messaging.domain.errors import Forbidden, Invalid
from services.messaging.domain.events import ConversationCreated, ConversationMembersChanged, Statement
from shared.domain import DomainError, applies

KINDS = ("channel", "group", "direct")


def conversation_id(community: str, conversation: str) -> str:
    return f"{community}.conversation.{conversation}"


class Conversation(Bans):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.conversation = aggregate_id.rsplit(".", 1)[-1]
        self.space = f"conversation:{self.conversation}"
        self.kind = ""
        self.name = ""
        self.members: tuple[str, ...] = ()
        self.read_roles: tuple[str, ...] = ()
        self.encrypted = False
        self.created_by = ""
        self.banned: dict[str, str] = {}

    def create(
        self,
        *,
        kind: str,
        name: str,
        members: tuple[str, ...],
        read_roles: tuple[str, ...],
        by: str,
        statement: Statement,
        now: int,
    ) -> None:
        if self.version:
            raise DomainError("conversation_exists", f"conversation {self.conversation} already exists")
        if kind not in KINDS:
            raise Invalid("invalid_request", f"kind is one of {', '.join(KINDS)}")
        if kind == "direct" and (len(members) != 2 or by not in members):
            raise Invalid("invalid_request", "a direct conversation is between you and one other member")
        if kind == "group" and (by not in members or len(members) < 2):
            raise Invalid("invalid_request", "a group has you and at least one other member")
        if kind == "channel" and members:
            raise Invalid("invalid_request", "a channel is open by role; it has no member list")
        self.trigger(
            ConversationCreated,
            now,
            conversation=self.conversation,
            kind=kind,
            name=name,
            members=members,
            read_roles=read_roles if kind == "channel" else (),
            encrypted=kind != "channel",  # direct and private group messages are end-to-end encrypted
            by=by,
            statement=statement,
        )

    def change_members(self, *, members: tuple[str, ...], by: str, statement: Statement, now: int) -> None:
        if self.kind != "group":
            raise Invalid("invalid_request", "only a group's members change")
        if by != self.created_by and by not in self.members:
            raise Forbidden("not_in_conversation", "only a member of the group changes who is in it")
        if len(members) < 2:
            raise Invalid("invalid_request", "a group has at least two members")
        self.trigger(
            ConversationMembersChanged,
            now,
            conversation=self.conversation,
            members=members,
            by=by,
            statement=statement,
        )

    def may_read(self, did: str, roles: Iterable[str]) -> bool:
        if did in self.banned:
            return False
        if self.kind == "channel":
            return roles_allow(self.read_roles, roles)
        return did in self.members

    @applies(ConversationCreated)
    def _created(self, event: ConversationCreated) -> None:
        self.kind, self.name, self.members = event.kind, event.name, event.members
        self.read_roles, self.encrypted, self.created_by = event.read_roles, event.encrypted, event.by

    @applies(ConversationMembersChanged)
    def _members(self, event: ConversationMembersChanged) -> None:
        self.members = event.members
