"""A member's keys, derived from the recovery phrase along one fixed SLIP-0010 path.

Path layout (every level hardened, as SLIP-0010 requires for Ed25519), in the `m/26'` family the
First Person Project's trust agent uses (`m/26' / context' / …`):

    m/26'                First Person path family
    m/26'/0'             Community OS member identity (context)
    m/26'/0'/0'          identity number 0 (one per phrase today)
    m/26'/0'/0'/0'       Ed25519 signing key: the member's did:key

The X25519 key-agreement key is not a second path: it is the Ed25519 signing key converted to
the Montgomery curve, because a did:key document publishes exactly that conversion as its
`keyAgreement` key. Anyone holding only the DID can therefore encrypt to the member.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.multikey import multikey_encode
from shared.signing import SigningKey
from shared.trust.recovery import phrase_to_seed
from shared.trust.slip10 import derive_path
from shared.trust.x25519 import (
    x25519_private_key_from_ed25519_seed,
    x25519_public_key_from_ed25519,
)

__all__ = ["MEMBER_SIGNING_PATH", "MemberKeys"]

MEMBER_SIGNING_PATH = "m/26'/0'/0'/0'"


@dataclass(frozen=True)
class MemberKeys:
    """The signing key behind a member's did:key, and the X25519 key that goes with it."""

    signing_key: SigningKey = field(repr=False)

    @classmethod
    def from_phrase(cls, phrase: str, passphrase: str = "") -> MemberKeys:
        """Derive the keys of a 24-word recovery phrase (RecoveryPhraseError when it is invalid)."""
        node = derive_path(phrase_to_seed(phrase, passphrase), MEMBER_SIGNING_PATH)
        return cls(SigningKey(node.private_key))

    @classmethod
    def from_seed(cls, ed25519_seed: bytes) -> MemberKeys:
        """Wrap an already derived 32-byte Ed25519 secret key (e.g. one read from a keyfile)."""
        return cls(SigningKey(ed25519_seed))

    @property
    def public_key(self) -> bytes:
        return self.signing_key.public_key

    @property
    def did(self) -> str:
        """The member's `did:key:z6Mk…` identifier."""
        return self.signing_key.key_id

    @property
    def verification_method(self) -> str:
        """The DID URL of the signing key, `did:key:z6Mk…#z6Mk…`, as proofs name it."""
        return f"{self.did}#{multikey_encode(self.public_key)}"

    @property
    def x25519_private_key(self) -> bytes:
        return x25519_private_key_from_ed25519_seed(self.signing_key.seed)

    @property
    def x25519_public_key(self) -> bytes:
        return x25519_public_key_from_ed25519(self.public_key)
