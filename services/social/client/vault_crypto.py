"""Client-side vault encryption: keys from the recovery phrase, XChaCha20-Poly1305, opaque item ids.

Key derivation (recorded in docs/decisions/0021-planet-social.md):

    phrase --BIP-39--> seed --SLIP-0010--> m/26'/1'/0'/0'   (context 1' = the personal vault)
    vault root (32 bytes) --HKDF-SHA256, info "cos-vault/v1/encryption"--> item encryption key
    vault root            --HKDF-SHA256, info "cos-vault/v1/item-ids"----> item id key (HMAC)

The signing key (m/26'/0'/0'/0') is another branch: a leaked signing key, or a keyfile, opens
nothing in the vault, and the vault key never signs. An item id is HMAC(item id key, name), so
the server learns neither names nor kinds; the plaintext envelope holds both. The associated data
binds each ciphertext to its community, owner, item and version, so the server cannot swap one
stored ciphertext for another (or roll an item back) without decryption failing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import nacl.bindings
import nacl.exceptions
import nacl.utils

from shared.trust.member_keys import MemberKeys
from shared.trust.recovery import phrase_to_seed
from shared.trust.slip10 import derive_path

__all__ = ["VAULT_PATH", "VaultDecryptionError", "VaultKeys", "VaultPlaintext", "hkdf_sha256"]

VAULT_PATH = "m/26'/1'/0'/0'"
KINDS = ("credential", "note", "file")
PART = "part"  # a piece of a large item; the item itself then lists its parts
NONCE_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class VaultDecryptionError(ValueError):
    """A ciphertext does not open with this phrase's key (wrong phrase, or altered or moved data)."""


def hkdf_sha256(ikm: bytes, info: bytes, length: int = 32, salt: bytes = b"") -> bytes:
    """RFC 5869 HKDF with SHA-256 (extract, then expand)."""
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


@dataclass(frozen=True)
class VaultPlaintext:
    name: str
    kind: str  # credential | note | file
    content: bytes
    media_type: str = "application/octet-stream"
    parts: tuple[tuple[str, int, str], ...] = ()  # (item id, version, sha256 hex) of each piece

    def encode(self) -> bytes:
        fields: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "mediaType": self.media_type,
            "content": base64.b64encode(self.content).decode(),
        }
        if self.parts:
            fields["parts"] = [list(part) for part in self.parts]
        return json.dumps(fields, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> VaultPlaintext:
        fields: dict[str, Any] = json.loads(data)
        return cls(
            name=str(fields["name"]),
            kind=str(fields["kind"]),
            content=base64.b64decode(fields["content"]),
            media_type=str(fields.get("mediaType", "application/octet-stream")),
            parts=tuple((str(i), int(v), str(h)) for i, v, h in fields.get("parts", [])),
        )


@dataclass(frozen=True)
class VaultKeys:
    """Everything a device needs for a vault: the member's signing keys and the vault's own keys."""

    member: MemberKeys
    encryption_key: bytes
    item_id_key: bytes

    @classmethod
    def from_phrase(cls, phrase: str, passphrase: str = "") -> VaultKeys:
        seed = phrase_to_seed(phrase, passphrase)
        root = derive_path(seed, VAULT_PATH).private_key
        return cls(
            member=MemberKeys.from_phrase(phrase, passphrase),
            encryption_key=hkdf_sha256(root, b"cos-vault/v1/encryption"),
            item_id_key=hkdf_sha256(root, b"cos-vault/v1/item-ids"),
        )

    def item_id(self, name: str) -> str:
        return hmac.new(self.item_id_key, name.encode(), hashlib.sha256).hexdigest()[:48]

    def associated_data(self, community: str, item: str, version: int) -> bytes:
        return f"cos-vault/v1\n{community}\n{self.member.did}\n{item}\n{version}".encode()

    def seal(self, community: str, plaintext: VaultPlaintext, version: int) -> tuple[str, str, str]:
        """(item id, base64 ciphertext, base64 nonce) of `plaintext` as item version `version`."""
        if plaintext.kind not in (*KINDS, PART):
            raise ValueError(f"a vault item is one of {', '.join(KINDS)}")
        item = self.item_id(plaintext.name)
        nonce = nacl.utils.random(NONCE_BYTES)
        sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext.encode(), self.associated_data(community, item, version), nonce, self.encryption_key
        )
        return item, base64.b64encode(sealed).decode(), base64.b64encode(nonce).decode()

    def open(self, community: str, item: str, version: int, ciphertext: str, nonce: str) -> VaultPlaintext:
        try:
            opened = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                base64.b64decode(ciphertext),
                self.associated_data(community, item, version),
                base64.b64decode(nonce),
                self.encryption_key,
            )
        except (nacl.exceptions.CryptoError, ValueError) as exc:
            raise VaultDecryptionError(f"item {item} version {version} does not open with this key") from exc
        return VaultPlaintext.decode(opened)
