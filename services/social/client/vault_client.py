"""A vault on a device: encrypt here, store ciphertext through `social.cmd.vault_*`, restore anywhere.

Everything the server sees is ciphertext, its nonce, an opaque item id and the member's signed
statements; names, kinds and contents are sealed with keys only her recovery phrase derives.
A file larger than one commit should carry is stored as parts (each its own opaque item) and an
item that lists them with their versions and digests, so a restore reassembles exactly what was
written, and a part altered or swapped on the server is detected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from services.social.client.signing import social_statement
from services.social.client.vault_crypto import PART, VaultDecryptionError, VaultKeys, VaultPlaintext

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]  # (command name, payload) -> result
PART_BYTES = 64 * 1024  # sealed and base64-encoded, a part stays inside the service's item limit


@dataclass(frozen=True)
class VaultEntry:
    item: str
    version: int
    plaintext: VaultPlaintext


class VaultClient:
    def __init__(self, keys: VaultKeys, community: str, call: Call) -> None:
        self.keys = keys
        self.community = community
        self._call = call

    async def _signed(self, action: str, body: dict[str, Any]) -> Any:
        statement = social_statement(self.keys.member, action, self.community, body)
        return await self._call(action, {"community": self.community, "statement": statement})

    async def _listing(self) -> dict[str, tuple[int, bool]]:
        listed = await self._signed("vault_list", {})
        return {entry["item"]: (int(entry["version"]), bool(entry["deleted"])) for entry in listed["items"]}

    async def versions(self, *, include_deleted: bool = True) -> dict[str, int]:
        """Item id -> latest version (a deleted item keeps counting: a new write continues it)."""
        return {
            item: version
            for item, (version, deleted) in (await self._listing()).items()
            if include_deleted or not deleted
        }

    async def put(self, plaintext: VaultPlaintext) -> int:
        """Store `plaintext` as the next version of its item; returns the new version number.

        Parts the previous version used and this one does not are deleted (older versions stay
        readable: a read of a given version ignores deletion)."""
        listing = await self._listing()
        versions = {item: version for item, (version, _) in listing.items()}
        item = self.keys.item_id(plaintext.name)
        previous: set[str] = set()
        if item in listing and not listing[item][1]:
            previous = {part[0] for part in (await self._get_item(item)).plaintext.parts}
        parts = []
        if len(plaintext.content) > PART_BYTES:
            for index in range(0, len(plaintext.content), PART_BYTES):
                piece = plaintext.content[index : index + PART_BYTES]
                part = VaultPlaintext(f"{plaintext.name}\x00part{index // PART_BYTES}", PART, piece)
                version = await self._store(part, versions)
                parts.append((self.keys.item_id(part.name), version, hashlib.sha256(piece).hexdigest()))
            plaintext = replace(plaintext, content=b"", parts=tuple(parts))
        version = await self._store(plaintext, versions)
        for stale in sorted(previous - {part[0] for part in parts}):
            await self._signed("vault_delete", {"item": stale})
        return version

    async def _store(self, plaintext: VaultPlaintext, versions: dict[str, int]) -> int:
        item = self.keys.item_id(plaintext.name)
        current = versions.get(item, 0)
        _, ciphertext, nonce = self.keys.seal(self.community, plaintext, current + 1)
        body = {"item": item, "expected_version": current, "ciphertext": ciphertext, "nonce": nonce}
        stored = await self._signed("vault_store", body)
        versions[item] = int(stored["version"])
        return versions[item]

    async def get(self, name: str, version: int | None = None) -> VaultEntry:
        return await self._assembled(await self._get_item(self.keys.item_id(name), version))

    async def _get_item(self, item: str, version: int | None = None) -> VaultEntry:
        body: dict[str, Any] = {"item": item} | ({"version": version} if version is not None else {})
        found = await self._signed("vault_get", body)
        plaintext = self.keys.open(
            self.community, item, found["version"], found["ciphertext"], found["nonce"]
        )
        return VaultEntry(item, int(found["version"]), plaintext)

    async def _assembled(self, entry: VaultEntry) -> VaultEntry:
        if not entry.plaintext.parts:
            return entry
        pieces = []
        for item, version, digest in entry.plaintext.parts:
            piece = (await self._get_item(item, version)).plaintext.content
            if hashlib.sha256(piece).hexdigest() != digest:
                raise VaultDecryptionError(f"a part of {entry.plaintext.name!r} is not the one written")
            pieces.append(piece)
        return replace(entry, plaintext=replace(entry.plaintext, content=b"".join(pieces), parts=()))

    async def delete(self, name: str) -> None:
        entry = await self._get_item(self.keys.item_id(name))
        await self._signed("vault_delete", {"item": entry.item})
        for item in dict.fromkeys(part[0] for part in entry.plaintext.parts):
            await self._signed("vault_delete", {"item": item})

    async def restore(self) -> list[VaultEntry]:
        """Every item's latest version, decrypted: what a new device holds after the phrase alone."""
        live = await self.versions(include_deleted=False)
        entries = [await self._get_item(item) for item in sorted(live)]
        return [await self._assembled(entry) for entry in entries if entry.plaintext.kind != PART]
