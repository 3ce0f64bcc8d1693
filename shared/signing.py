"""Ed25519 signing keys of service instances, named by their did:key, and detached signatures."""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.signing

from shared.multikey import did_key_from_public_key, public_key_from_did_key

__all__ = ["BadSignature", "SigningKey", "load_or_create_seed", "verify_detached"]


def load_or_create_seed(path: Path) -> bytes:
    """The 32 random bytes stored (hex) at `path`, created (mode 0600) on first use: a signing key's
    seed, or any other secret that every replica given the same file shares."""
    if not path.exists():
        # Written whole beside it, then linked into place: replicas starting together on one
        # volume all end up with the one seed that was linked first, never a half-written file.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(os.urandom(32).hex())
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink()
    seed = bytes.fromhex(path.read_text().strip())
    if len(seed) != 32:
        raise ValueError(f"{path} holds {len(seed)} bytes, not the 32 of a seed")
    return seed


class BadSignature(ValueError):
    """A signature does not verify under the named public key."""


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key that signs what one service instance accepts."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        key = nacl.signing.SigningKey(self.seed)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_key_id", did_key_from_public_key(bytes(key.verify_key)))
        # libsodium's 64-byte secret key is the seed followed by the public key.
        object.__setattr__(self, "_secret", self.seed + bytes(key.verify_key))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(32))

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """Load the seed stored at `path`, creating it (mode 0600) on first use."""
        return cls(load_or_create_seed(path))

    @property
    def public_key(self) -> bytes:
        return bytes(self._nacl.verify_key)

    @property
    def key_id(self) -> str:
        """The did:key of this key: what envelopes name as their signer."""
        key_id: str = object.__getattribute__(self, "_key_id")
        return key_id

    @property
    def _nacl(self) -> nacl.signing.SigningKey:
        key: nacl.signing.SigningKey = object.__getattribute__(self, "_key")
        return key

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte detached signature of `message`."""
        # The binding directly: SigningKey.sign builds wrapper objects we do not need, and this
        # runs once per stored commit.
        secret: bytes = object.__getattribute__(self, "_secret")
        signed: bytes = nacl.bindings.crypto_sign(message, secret)
        return signed[:64]


@functools.lru_cache(maxsize=1024)
def _public_key_of(did: str) -> bytes:
    """The raw key a did:key names; cached, as every commit of a service names the same signer."""
    return public_key_from_did_key(did)


def verify_detached(message: bytes, signature: bytes, public_key: bytes | str) -> None:
    """Raise BadSignature unless `signature` is a valid Ed25519 signature of `message`.

    `public_key` is the raw 32 bytes or a did:key identifier.
    """
    raw = _public_key_of(public_key) if isinstance(public_key, str) else public_key
    if len(raw) != 32 or len(signature) != 64:
        raise BadSignature("signature does not verify")
    try:
        # The binding directly: VerifyKey objects cost a fifth of a verification, once per commit.
        nacl.bindings.crypto_sign_open(signature + message, raw)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError) as exc:
        raise BadSignature("signature does not verify") from exc
