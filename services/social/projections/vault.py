"""The index of each member's vault: item ids, versions, sizes (never a key, a name or a plaintext)."""

from __future__ import annotations

from typing import Any

from services.social.domain.events import VaultItemDeleted, VaultItemStored
from shared.domain import Event


class VaultIndex:
    def __init__(self) -> None:
        self.position = 0
        self._items: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

    def apply(self, event: Event) -> None:
        community = event.originator_id.split(".", 1)[0]
        if isinstance(event, VaultItemStored):
            items = self._items.setdefault((community, event.owner), {})
            previous = items.get(event.item)
            items[event.item] = {
                "item": event.item,
                "version": (previous["version"] if previous else 0) + 1,
                "size": event.size,
                "sha256": event.sha256,
                "at": event.occurred_ns,
                "deleted": False,
            }
        elif isinstance(event, VaultItemDeleted):
            entry = self._items.get((community, event.owner), {}).get(event.item)
            if entry is not None:
                entry["deleted"], entry["at"] = True, event.occurred_ns

    def items(self, community: str, owner: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        entries = self._items.get((community, owner), {}).values()
        return [
            dict(e) for e in sorted(entries, key=lambda e: e["item"]) if include_deleted or not e["deleted"]
        ]
