"""Vault use cases: store a new version of a ciphertext, list, fetch, delete — each signed by its owner.

The server checks who asks (her signed statement, also for reads: the vault is nobody else's to
read, not even another service's on the bus) and keeps ciphertext only; encryption and the keys
are the client's (`services.social.client.vault_crypto`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from services.social.domain.commands import Signed, VaultItemBody, VaultListBody, VaultStoreBody
from services.social.domain.vault import ITEM, VaultItem, vault_item_id
from services.social.handlers.base import HandlerBase
from shared.application import NotFound
from shared.domain import DomainError

NONCE_BYTES = 24


def _base64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DomainError("invalid_vault_item", f"{what} is not base64: {exc}") from exc


class VaultHandlers(HandlerBase):
    def vault_item(self, community: str, owner: str, item: str) -> VaultItem:
        if not ITEM.match(item):
            raise DomainError("invalid_vault_item", "an item id is 32-64 lower-case hex characters")
        ident = vault_item_id(community, owner, item)
        return self.app.find(VaultItem, ident) or VaultItem(ident)

    async def vault_store(self, command: Signed) -> dict[str, Any]:
        statement, body = await self.acting(command, "vault_store", VaultStoreBody)
        sealed = _base64(body.ciphertext, "ciphertext")
        if len(_base64(body.nonce, "nonce")) != NONCE_BYTES:
            raise DomainError("invalid_vault_item", f"an XChaCha20-Poly1305 nonce has {NONCE_BYTES} bytes")
        item = await self.run(self.vault_item, statement.community, statement.actor, body.item)
        version = item.store(
            statement.actor,
            body.item,
            expected_version=body.expected_version,
            ciphertext=body.ciphertext,
            nonce=body.nonce,
            sha256=hashlib.sha256(sealed).hexdigest(),
            size=len(sealed),
            statement=statement.document,
            now=self.clock(),
        )
        await self.save(item)
        return {"item": body.item, "version": version, "size": len(sealed)}

    async def vault_delete(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "vault_delete")
        body = self.body(statement, VaultItemBody)
        item = await self.run(self.vault_item, statement.community, statement.actor, body.item)
        item.delete(statement.actor, statement.document, self.clock())
        await self.save(item)
        return {"item": body.item, "deleted": True}

    async def vault_list(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "vault_list")
        self.body(statement, VaultListBody)
        items = await self.query(
            lambda: self.vault_index.items(statement.community, statement.actor, include_deleted=True)
        )
        return {"owner": statement.actor, "items": items}

    async def vault_get(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "vault_get")
        body = self.body(statement, VaultItemBody)
        item = await self.run(self.vault_item, statement.community, statement.actor, body.item)
        if not item.versions or (item.deleted and body.version is None):
            raise NotFound("unknown_vault_item", "there is no such item in your vault")
        number = item.current if body.version is None else body.version
        if not 1 <= number <= item.current:
            raise NotFound("unknown_vault_item", f"the item has versions 1-{item.current}")
        stored = item.versions[number - 1]
        return {
            "item": body.item,
            "version": number,
            "latest": item.current,
            "ciphertext": stored.ciphertext,
            "nonce": stored.nonce,
            "sha256": stored.sha256,
            "at": stored.occurred_ns,
        }
