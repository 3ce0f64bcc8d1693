"""A vault item: versions of one ciphertext a member stores; the server never sees a key or a name."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from services.social.domain.events import VaultItemDeleted, VaultItemStored
from shared.domain import Aggregate, DomainError, applies

Document = dict[str, Any]
ITEM = re.compile(r"^[0-9a-f]{32,64}$")
MAX_CIPHERTEXT = 150_000  # base64 characters: a commit must stay well inside a NATS message


def vault_item_id(community: str, owner: str, item: str) -> str:
    key = f"{owner}\n{item}"
    return f"{community}.vault.{hashlib.sha256(key.encode()).hexdigest()[:40]}"


class VaultItem(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.owner = ""
        self.item = ""
        self.deleted = False
        self.versions: list[VaultItemStored] = []

    @property
    def current(self) -> int:
        """The number of the latest stored version (0 before the first)."""
        return len(self.versions)

    def store(
        self,
        owner: str,
        item: str,
        *,
        expected_version: int,
        ciphertext: str,
        nonce: str,
        sha256: str,
        size: int,
        statement: Document,
        now: int,
    ) -> int:
        if not ITEM.match(item):
            raise DomainError("invalid_vault_item", "an item id is 32-64 lower-case hex characters")
        if self.owner and self.owner != owner:
            raise DomainError("not_your_vault", "this item belongs to another member")
        if len(ciphertext) > MAX_CIPHERTEXT:
            raise DomainError(
                "vault_item_too_large", f"an item is at most {MAX_CIPHERTEXT} base64 characters"
            )
        if expected_version != self.current:
            raise DomainError(
                "vault_version_conflict",
                f"the item is at version {self.current}, not {expected_version}: fetch it, merge, retry",
            )
        self.trigger(
            VaultItemStored,
            now,
            owner=owner,
            item=item,
            ciphertext=ciphertext,
            nonce=nonce,
            sha256=sha256,
            size=size,
            statement=statement,
        )
        return self.current

    def delete(self, owner: str, statement: Document, now: int) -> None:
        if self.owner != owner:
            raise DomainError("unknown_vault_item", "there is no such item in your vault")
        if self.deleted:
            raise DomainError("unknown_vault_item", "this item is already deleted")
        self.trigger(VaultItemDeleted, now, owner=owner, item=self.item, statement=statement)

    @applies(VaultItemStored)
    def _stored(self, event: VaultItemStored) -> None:
        self.owner, self.item, self.deleted = event.owner, event.item, False
        self.versions.append(event)

    @applies(VaultItemDeleted)
    def _deleted(self, event: VaultItemDeleted) -> None:
        self.deleted = True
