"""Chat read models: conversations, their messages (ciphertext for private ones) and unread counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.messaging.domain.events import (
    ConversationCreated,
    ConversationMembersChanged,
    MemberBanned,
    MemberUnbanned,
    MessageModerated,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    ReadMarkerSet,
    Sealed,
)
from shared.domain import Event


@dataclass
class ConversationRow:
    conversation: str
    kind: str
    name: str
    members: tuple[str, ...]
    read_roles: tuple[str, ...]
    encrypted: bool
    by: str
    messages: list[str] = field(default_factory=list)
    banned: set[str] = field(default_factory=set)
    last_ns: int = 0


@dataclass
class MessageRow:
    message: str
    conversation: str
    body: str
    sealed: tuple[Sealed, ...]
    parent: str
    by: str
    at_ns: int
    state: str = "visible"
    reactions: dict[str, set[str]] = field(default_factory=dict)
    replies: int = 0


class ChatView:
    def __init__(self) -> None:
        self.position = 0
        self.conversations: dict[str, dict[str, ConversationRow]] = {}
        self.messages: dict[str, dict[str, MessageRow]] = {}
        self.markers: dict[tuple[str, str], dict[str, int]] = {}

    def apply(self, event: Event) -> None:
        community = event.originator_id.split(".", 1)[0]
        conversations = self.conversations.setdefault(community, {})
        messages = self.messages.setdefault(community, {})
        if isinstance(event, ConversationCreated):
            conversations[event.conversation] = ConversationRow(
                event.conversation,
                event.kind,
                event.name,
                event.members,
                event.read_roles,
                event.encrypted,
                event.by,
                last_ns=event.occurred_ns,
            )
        elif isinstance(event, ConversationMembersChanged) and event.conversation in conversations:
            conversations[event.conversation].members = event.members
        elif isinstance(event, MemberBanned | MemberUnbanned) and event.space.startswith("conversation:"):
            row = conversations.get(event.space.removeprefix("conversation:"))
            if row is not None:
                (row.banned.add if isinstance(event, MemberBanned) else row.banned.discard)(event.member)
        elif isinstance(event, MessagePosted):
            messages[event.message] = MessageRow(
                event.message,
                event.conversation,
                event.body,
                event.sealed,
                event.parent,
                event.by,
                event.occurred_ns,
            )
            if event.parent in messages:
                messages[event.parent].replies += 1
            conversation = conversations.get(event.conversation)
            if conversation is not None:
                conversation.messages.append(event.message)
                conversation.last_ns = event.occurred_ns
        elif isinstance(event, MessageModerated) and event.message in messages and event.action != "flag":
            messages[event.message].state = {"hide": "hidden", "remove": "removed"}.get(
                event.action, "visible"
            )
        elif isinstance(event, ReactionAdded | ReactionRemoved) and event.target in messages:
            who = messages[event.target].reactions.setdefault(event.reaction, set())
            (who.add if isinstance(event, ReactionAdded) else who.discard)(event.by)
        elif isinstance(event, ReadMarkerSet) and event.scope.startswith("conversation:"):
            self.markers.setdefault((community, event.member), {})[event.scope] = event.position

    def unread(self, community: str, member: str, row: ConversationRow) -> int:
        """How many messages are after her read marker, not counting her own."""
        return len(self.unread_messages(community, member, row))

    def unread_messages(self, community: str, member: str, row: ConversationRow) -> list[str]:
        """The visible messages after her read marker, oldest first, not counting her own."""
        read = self.markers.get((community, member), {}).get(f"conversation:{row.conversation}", 0)
        messages = self.messages.get(community, {})
        return [m for m in row.messages[read:] if messages[m].by != member and messages[m].state == "visible"]
