"""Chat: open channels, and direct and group messages end-to-end encrypted (the server holds ciphertext)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey, SealedBox
from nats.aio.client import Client as NATS

from shared.domain import DomainError
from shared.trust.member_keys import MemberKeys

from .test_messaging_support import World, running_world, seal_for


@pytest.fixture
async def world(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with running_world(nc, nats_url, tmp_path) as started:
        yield started


def open_box(keys: MemberKeys, sealed: dict[str, str]) -> str:
    """What the recipient's client does with her X25519 key, derived from her Ed25519 did:key."""
    box = SealedBox(PrivateKey(keys.x25519_private_key))
    return box.decrypt(base64.b64decode(sealed["box"])).decode()


async def test_a_direct_conversation_stores_only_ciphertext_each_member_can_open(world: World) -> None:
    bea, cy, dee = await world.admit("Bea"), await world.admit("Cy"), await world.admit("Dee")
    direct = await world.act(bea, "create_conversation", {"kind": "direct", "members": [cy.did]})
    assert direct["encrypted"]
    assert sorted(direct["members"]) == sorted([bea.did, cy.did])
    again = await world.act(cy, "create_conversation", {"kind": "direct", "members": [bea.did]})
    assert again["conversation"] == direct["conversation"]  # one conversation per pair

    secret = "the gate code is 4711"
    posted = await world.act(
        bea, "post_message", {"conversation": direct["conversation"], "sealed": seal_for([bea, cy], secret)}
    )
    stored = world.messaging.app.history(f"{world.community}.message.{posted['message']}")
    assert secret not in repr(stored)
    assert "4711" not in repr(stored)

    seen = await world.query(cy, "messages", conversation=direct["conversation"])
    [message] = seen["messages"]
    assert "body" not in message
    assert open_box(cy, message["sealed"]) == secret
    [own] = (await world.query(bea, "messages", conversation=direct["conversation"]))["messages"]
    assert open_box(bea, own["sealed"]) == secret
    with pytest.raises(DomainError) as outsider:
        await world.query(dee, "messages", conversation=direct["conversation"])
    assert outsider.value.code == "unknown_conversation"
    with pytest.raises(DomainError) as intruder:
        await world.act(
            dee, "post_message", {"conversation": direct["conversation"], "sealed": seal_for([bea, cy], "x")}
        )
    assert intruder.value.code == "unknown_conversation"


async def test_ciphertext_for_the_wrong_recipients_or_keys_and_plaintext_are_refused(world: World) -> None:
    bea, cy, dee = await world.admit("Bea"), await world.admit("Cy"), await world.admit("Dee")
    group = await world.act(
        bea, "create_conversation", {"kind": "group", "name": "Allotment", "members": [cy.did]}
    )
    conversation = group["conversation"]

    async def refused(body: dict[str, Any]) -> str:
        with pytest.raises(DomainError) as error:
            await world.act(bea, "post_message", {"conversation": conversation} | body)
        return error.value.code

    assert await refused({"sealed": seal_for([bea], "only me")}) == "wrong_recipients"
    assert await refused({"sealed": seal_for([bea, cy, dee], "one too many")}) == "wrong_recipients"
    wrong_key = seal_for([bea, cy], "to dee's key")
    wrong_key[1]["key"] = seal_for([dee], "x")[0]["key"]
    assert await refused({"sealed": wrong_key}) == "wrong_recipient_key"
    garbage = seal_for([bea, cy], "x")
    garbage[0]["box"] = "not base64!"
    assert await refused({"sealed": garbage}) == "invalid_ciphertext"
    assert await refused({"body": "in the clear"}) == "plaintext_refused"
    assert (await world.query(cy, "messages", conversation=conversation))["messages"] == []

    await world.act(
        bea, "change_members", {"conversation": conversation, "members": [bea.did, cy.did, dee.did]}
    )
    await world.act(
        bea, "post_message", {"conversation": conversation, "sealed": seal_for([bea, cy, dee], "hi all")}
    )
    [message] = (await world.query(dee, "messages", conversation=conversation))["messages"]
    assert open_box(dee, message["sealed"]) == "hi all"


async def test_channels_with_threads_reactions_and_read_markers(world: World) -> None:
    bea, cy = await world.admit("Bea"), await world.admit("Cy")
    with pytest.raises(DomainError) as member_channel:
        await world.act(bea, "create_conversation", {"kind": "channel", "name": "general"})
    assert member_channel.value.code == "not_a_moderator"
    channel = await world.act(world.admin, "create_conversation", {"kind": "channel", "name": "General chat"})
    conversation = channel["conversation"]
    assert channel["encrypted"] is False

    first = await world.act(
        bea, "post_message", {"conversation": conversation, "body": "Anyone at the **plot**?"}
    )
    await world.act(
        cy, "post_message", {"conversation": conversation, "body": "me", "parent": first["message"]}
    )
    await world.act(cy, "react", {"kind": "message", "target": first["message"], "reaction": "🌱"})
    with pytest.raises(DomainError) as sealed_in_channel:
        await world.act(bea, "post_message", {"conversation": conversation, "sealed": seal_for([bea], "x")})
    assert sealed_in_channel.value.code == "invalid_request"

    listing = await world.query(bea, "messages", conversation=conversation)
    top, answer = listing["messages"]
    assert (top["html"], top["replies"], top["reactions"]) == (
        "<p>Anyone at the <strong>plot</strong>?</p>\n",
        1,
        {"🌱": 1},
    )
    assert answer["parent"] == first["message"]
    thread = await world.query(bea, "messages", conversation=conversation, thread=first["message"])
    assert len(thread["messages"]) == 2

    assert (await world.query(bea, "unread"))["conversations"] == {conversation: 1}
    await world.act(
        bea, "mark_read", {"scope": f"conversation:{conversation}", "position": listing["position"]}
    )
    assert (await world.query(bea, "unread"))["conversations"] == {}
    names = [c["name"] for c in (await world.query(cy, "conversations"))["conversations"]]
    assert names == ["General chat"]

    direct = await world.act(bea, "create_conversation", {"kind": "direct", "members": [cy.did]})
    await world.query(cy, "typing", conversation=direct["conversation"])
    community, notice = world.notices.sent[-1]
    assert (community, notice["kind"], notice["member"]) == (world.community, "typing", cy.did)
    assert sorted(notice["members"]) == sorted([bea.did, cy.did])
    with pytest.raises(DomainError) as outsider:
        await world.query(world.admin, "typing", conversation=direct["conversation"])
    assert outsider.value.code == "unknown_conversation"
