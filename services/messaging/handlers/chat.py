"""Chat: open channels, private groups and direct messages; private ones end-to-end encrypted.

The server never sees the text of a private message: the client seals it once per member of the
conversation (X25519 sealed boxes to the key of her did:key) and the server stores the boxes,
refusing a message whose recipients are not exactly the conversation's members, or whose box is
sealed to a key that is not the recipient's.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from services.messaging.domain.commands import ConversationBody, MembersBody, MessageBody, Query, Signed
from services.messaging.domain.content import (
    MAX_CHAT_BYTES,
    MAX_RECIPIENTS,
    MAX_SEALED_BYTES,
    SEALED_BOX_OVERHEAD,
    check_body,
    check_dids,
    check_id,
    check_name,
    digest_id,
)
from services.messaging.domain.conversation import Conversation, conversation_id
from services.messaging.domain.errors import Invalid, Missing, TooLarge
from services.messaging.domain.events import Sealed
from services.messaging.domain.message import ChatMessage, message_id
from services.messaging.handlers.base import Act, HandlerBase, new_id
from shared.multikey import MultikeyError, public_key_from_did_key
from shared.trust.x25519 import x25519_multikey_encode, x25519_public_key_from_ed25519


def x25519_key_of(did: str) -> str:
    """The X25519 Multikey a did:key publishes as its keyAgreement key ("" when it has none)."""
    try:
        return x25519_multikey_encode(x25519_public_key_from_ed25519(public_key_from_did_key(did)))
    except (MultikeyError, ValueError):
        return ""


class ChatHandlers(HandlerBase):
    async def create_conversation(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "create_conversation")
        body = self.body(act, ConversationBody)
        members: tuple[str, ...] = ()
        if body.kind == "channel":
            self.require_moderator(act)
            ident = check_id(body.conversation, "conversation") if body.conversation else new_id()
        else:
            members = check_dids((*body.members, act.did), "members", MAX_RECIPIENTS)
            for did in members:
                self.require_member(act.community, did, act.now, "member")
                if not x25519_key_of(did):
                    raise Invalid("no_encryption_key", f"{did} has no X25519 key to encrypt to")
            ident = digest_id("direct", *members)[:32] if body.kind == "direct" else new_id(body.conversation)
        conversation = await self.load_or_new(Conversation, conversation_id(act.community, ident))
        if body.kind == "direct" and conversation.version:
            return self.conversation_view(conversation)  # one direct conversation per pair
        name = check_name(body.name, "conversation name") if body.name or body.kind == "channel" else ""
        conversation.create(
            kind=body.kind,
            name=name,
            members=members,
            read_roles=tuple(sorted(set(body.read_roles))),
            by=act.did,
            statement=act.document,
            now=act.now,
        )
        await self.save(conversation)
        await self.notify(act.community, self.conversation_notice(conversation, {"kind": "conversation"}))
        return self.conversation_view(conversation)

    async def change_members(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "change_members")
        body = self.body(act, MembersBody)
        conversation = await self.readable_conversation(act, body.conversation)
        members = check_dids(body.members, "members", MAX_RECIPIENTS)
        for did in set(members) - set(conversation.members):
            self.require_member(act.community, did, act.now, "member")
            if not x25519_key_of(did):
                raise Invalid("no_encryption_key", f"{did} has no X25519 key to encrypt to")
        conversation.change_members(members=members, by=act.did, statement=act.document, now=act.now)
        await self.save(conversation)
        await self.notify(act.community, self.conversation_notice(conversation, {"kind": "conversation"}))
        return self.conversation_view(conversation)

    async def post_message(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "post_message")
        body = self.body(act, MessageBody)
        conversation = await self.readable_conversation(act, body.conversation)
        if conversation.encrypted:
            if body.body:
                raise Invalid(
                    "plaintext_refused", "this conversation is end-to-end encrypted: send sealed boxes only"
                )
            sealed = self.check_sealed(conversation, body.sealed)
            text = ""
        else:
            if body.sealed:
                raise Invalid("invalid_request", "a channel is not encrypted: send `body`")
            sealed, text = (), check_body(body.body, MAX_CHAT_BYTES, "message")
        if body.parent:
            parent = await self.find(
                ChatMessage,
                message_id(act.community, check_id(body.parent, "parent")),
                "unknown_message",
                "such message",
            )
            if parent.conversation != conversation.conversation:
                raise Invalid("invalid_parent", "a thread reply answers a message of the same conversation")
        message = await self.load_or_new(ChatMessage, message_id(act.community, new_id(body.message)))
        message.post(
            conversation=conversation.conversation,
            body=text,
            sealed=sealed,
            parent=body.parent,
            by=act.did,
            statement=act.document,
            now=act.now,
        )
        await self.save(message)
        if self.notices is not None and conversation.kind != "channel":
            # Stored for mail to members who are away (ids only: the server cannot read the text).
            await self.notices.notify(
                act.community,
                {"kind": "chat_message", "conversation": conversation.conversation,
                 "message": message.message, "by": act.did,
                 "recipients": sorted(set(conversation.members) - {act.did})},
            )  # fmt: skip
        notice = {"kind": "message", "message": message.message, "parent": body.parent}
        await self.notify(act.community, self.conversation_notice(conversation, notice))
        return {"message": message.message, "conversation": conversation.conversation}

    async def typing(self, query: Query) -> dict[str, Any]:
        """An ephemeral "is typing" notice to the conversation's readers; nothing is recorded."""
        record = await self.reader(query.community, query.member)
        conversation = await self.find(
            Conversation,
            conversation_id(query.community, check_id(query.conversation, "conversation")),
            "unknown_conversation",
            "such conversation",
        )
        if not conversation.may_read(record.did, record.roles):
            raise Missing("unknown_conversation", "there is no such conversation")
        notice = {"kind": "typing", "member": record.did}
        await self.notify(query.community, self.conversation_notice(conversation, notice))
        return {"conversation": conversation.conversation, "typing": True}

    @staticmethod
    def check_sealed(conversation: Conversation, sealed: tuple[Sealed, ...]) -> tuple[Sealed, ...]:
        recipients = sorted(s.to for s in sealed)
        if recipients != sorted(conversation.members):
            raise Invalid(
                "wrong_recipients",
                "seal the message once for each member of the conversation, and only for them "
                f"({len(conversation.members)} members, {len(recipients)} boxes)",
            )
        for box in sealed:
            if box.key != x25519_key_of(box.to):
                raise Invalid(
                    "wrong_recipient_key", f"the box for {box.to} is not sealed to that member's key"
                )
            if len(box.box) > MAX_SEALED_BYTES:
                raise TooLarge("too_large", f"a sealed message is at most {MAX_SEALED_BYTES} bytes of base64")
            try:
                raw = base64.b64decode(box.box, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise Invalid("invalid_ciphertext", f"the box for {box.to} is not base64") from exc
            if len(raw) <= SEALED_BOX_OVERHEAD:
                raise Invalid("invalid_ciphertext", f"the box for {box.to} is too short to be a sealed box")
        return tuple(sorted(sealed, key=lambda s: s.to))

    async def readable_conversation(self, act: Act, ident: str) -> Conversation:
        conversation = await self.find(
            Conversation,
            conversation_id(act.community, check_id(ident, "conversation")),
            "unknown_conversation",
            "such conversation",
        )
        if conversation.kind == "channel" or act.did in conversation.members:
            conversation.require_not_banned(act.did)
        moderating = conversation.kind == "channel" and act.is_moderator
        if not conversation.may_read(act.did, act.roles) and not moderating:
            raise Missing("unknown_conversation", "there is no such conversation")
        return conversation

    @staticmethod
    def conversation_notice(conversation: Conversation, notice: dict[str, Any]) -> dict[str, Any]:
        notice["conversation"] = conversation.conversation
        if conversation.kind == "channel":
            notice["read_roles"] = list(conversation.read_roles)
        else:
            notice["members"] = list(conversation.members)
        return notice

    @staticmethod
    def conversation_view(conversation: Conversation) -> dict[str, Any]:
        return {
            "conversation": conversation.conversation,
            "kind": conversation.kind,
            "name": conversation.name,
            "members": list(conversation.members),
            "encrypted": conversation.encrypted,
            "keys": {did: x25519_key_of(did) for did in conversation.members},
        }
