"""The vault at the service layer: client-side encryption from the phrase, ciphertext only on the server."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from services.social.client.vault_client import VaultClient
from services.social.client.vault_crypto import VaultDecryptionError, VaultKeys, VaultPlaintext
from services.social.domain.commands import Signed
from services.social.domain.events import VaultItemStored
from shared.domain import DomainError
from shared.trust.recovery import new_phrase

from .test_social_support import World, signed, world


def signed_vault(vault: VaultClient) -> Signed:
    return signed(vault.keys.member, "vault_list", vault.community)


def client(w: World, phrase: str) -> VaultClient:
    keys = VaultKeys.from_phrase(phrase)
    w.roster.admit(w.community, keys.member.did)

    async def call(name: str, payload: dict[str, Any]) -> Any:
        return await getattr(w.handlers, name)(msgspec.convert(payload, Signed))

    return VaultClient(keys, w.community, call)


async def test_a_new_device_restores_the_vault_from_the_phrase_alone() -> None:
    w, phrase = world(), new_phrase()
    laptop = client(w, phrase)
    note = VaultPlaintext("groceries", "note", b"oat milk, lentils", "text/plain")
    assert await laptop.put(note) == 1
    assert await laptop.put(VaultPlaintext("groceries", "note", b"oat milk, lentils, rye")) == 2
    await laptop.put(VaultPlaintext("membership.json", "credential", b'{"type": ["VerifiableCredential"]}'))

    phone = client(w, phrase)  # nothing local: only the phrase
    restored = {entry.plaintext.name: entry for entry in await phone.restore()}
    assert restored["groceries"].plaintext.content == b"oat milk, lentils, rye"
    assert restored["groceries"].version == 2
    assert restored["membership.json"].plaintext.kind == "credential"
    assert (await phone.get("groceries", version=1)).plaintext.content == b"oat milk, lentils"

    await phone.delete("groceries")
    assert [e.plaintext.name for e in await laptop.restore()] == ["membership.json"]
    assert await laptop.put(VaultPlaintext("groceries", "note", b"beans")) == 3  # versions continue
    assert (await phone.get("groceries")).plaintext.content == b"beans"


async def test_a_large_file_is_stored_in_parts_and_restored_whole() -> None:
    w, phrase = world(), new_phrase()
    laptop = client(w, phrase)
    scan = bytes(range(256)) * 1200  # 300 KiB: five parts
    assert await laptop.put(VaultPlaintext("passport.pdf", "file", scan, "application/pdf")) == 1
    smaller = scan[: 70 * 1024]
    assert await laptop.put(VaultPlaintext("passport.pdf", "file", smaller, "application/pdf")) == 2
    phone = client(w, phrase)
    [restored] = await phone.restore()
    assert (restored.plaintext.name, restored.plaintext.content) == ("passport.pdf", smaller)
    assert (await phone.get("passport.pdf", version=1)).plaintext.content == scan
    listed = await w.handlers.vault_list(signed_vault(phone))
    assert len(listed["items"]) == 1 + 5  # the item and its parts: opaque ids, sizes only
    await phone.delete("passport.pdf")
    assert await phone.restore() == []
    assert await phone.versions(include_deleted=False) == {}


async def test_the_server_stores_ciphertext_only() -> None:
    w = world()
    laptop = client(w, new_phrase())
    diary = VaultPlaintext("diary", "note", b"a very private sentence")
    await laptop.put(diary)
    events = [
        n for n in w.handlers.app.recorder.select_notifications(start=1, limit=100) if "vault" in n.topic
    ]
    assert events
    assert all(b"private" not in n.state and b"diary" not in n.state for n in events)
    stored = [
        e for e in w.handlers.app.history(str(events[0].originator_id)) if isinstance(e, VaultItemStored)
    ]
    assert stored[0].size == len(diary.encode()) + 16  # the sealed envelope and its Poly1305 tag


async def test_another_phrase_opens_nothing_and_sees_no_items() -> None:
    w = world()
    ada = client(w, new_phrase())
    await ada.put(VaultPlaintext("secret", "note", b"x"))
    eve = client(w, new_phrase())
    assert await eve.versions() == {}
    found = await ada._signed("vault_get", {"item": ada.keys.item_id("secret")})
    with pytest.raises(VaultDecryptionError):
        eve.keys.open(w.community, ada.keys.item_id("secret"), 1, found["ciphertext"], found["nonce"])
    with pytest.raises(VaultDecryptionError):  # a version rolled back or swapped does not open
        ada.keys.open(w.community, ada.keys.item_id("secret"), 2, found["ciphertext"], found["nonce"])


async def test_a_stale_write_is_refused_instead_of_overwriting() -> None:
    w = world()
    laptop = client(w, new_phrase())
    await laptop.put(VaultPlaintext("list", "note", b"one"))
    item = laptop.keys.item_id("list")
    _, ciphertext, nonce = laptop.keys.seal(w.community, VaultPlaintext("list", "note", b"two"), 2)
    stale = {"item": item, "expected_version": 0, "ciphertext": ciphertext, "nonce": nonce}
    with pytest.raises(DomainError) as refused:
        await laptop._signed("vault_store", stale)
    assert refused.value.code == "vault_version_conflict"
    with pytest.raises(DomainError) as bad:
        await laptop._signed("vault_store", stale | {"expected_version": 1, "nonce": "AAAA"})
    assert bad.value.code == "invalid_vault_item"
    assert (await laptop.get("list")).plaintext.content == b"one"
