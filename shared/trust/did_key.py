"""The did:key method for Ed25519 keys: parse an identifier and expand it into its DID document.

Follows the did:key specification (https://w3c-ccg.github.io/did-key-spec/): the document carries
the key as a `Multikey` verification method with id `did:key:z6Mk…#z6Mk…`, referenced from
authentication, assertionMethod, capabilityDelegation and capabilityInvocation, plus the derived
X25519 `keyAgreement` key, laid out exactly as the specification's Ed25519-with-X25519 example.
Errors carry the specification's error codes (`invalidDid`, `invalidPublicKeyLength`, …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import base58
import nacl.bindings

from shared.trust.errors import DidError, DidFailure
from shared.trust.x25519 import x25519_multikey_encode, x25519_public_key_from_ed25519

__all__ = [
    "DID_CONTEXT",
    "DidKey",
    "DidKeyResolver",
    "did_key_document",
    "parse_did_key",
]

DID_CONTEXT = "https://www.w3.org/ns/did/v1.1"
_ED25519_PUB = 0xED
# Multicodec public-key types the did:key specification lists, with their key lengths.
_KNOWN_KEY_TYPES: dict[int, tuple[str, int]] = {
    0xE7: ("secp256k1-pub", 33),
    0xEC: ("x25519-pub", 32),
    0xED: ("ed25519-pub", 32),
    0xEB: ("bls12_381-g2-pub", 96),
    0x1200: ("p256-pub", 33),
    0x1201: ("p384-pub", 49),
}
_METHOD_SPECIFIC_ID = re.compile(r"[A-Za-z0-9._\-]+")


@dataclass(frozen=True)
class DidKey:
    """A parsed Ed25519 did:key."""

    did: str
    multibase: str
    public_key: bytes

    @property
    def verification_method_id(self) -> str:
        return f"{self.did}#{self.multibase}"


def parse_did_key(did: str) -> DidKey:
    """Parse and check an Ed25519 did:key identifier (no fragment), or raise DidError."""
    if not isinstance(did, str):
        raise DidError(DidFailure.INVALID_DID, "a DID is a string")
    if any(mark in did for mark in "#?/"):
        raise DidError(
            DidFailure.INVALID_DID, f"expected a DID, got a DID URL (path, query, fragment): {did}"
        )
    parts = did.split(":")
    if len(parts) == 3:
        scheme, method, multibase = parts
    elif len(parts) == 4:
        scheme, method, version, multibase = parts
        if not (version.isascii() and version.isdigit() and int(version) > 0):
            raise DidError(DidFailure.INVALID_DID, f"did:key version must be a positive integer: {version!r}")
    else:
        raise DidError(DidFailure.INVALID_DID, f"not a did:key identifier: {did!r}")
    if scheme != "did":
        raise DidError(DidFailure.INVALID_DID, f"a DID starts with 'did:': {did!r}")
    if method != "key":
        raise DidError(DidFailure.INVALID_DID, f"not the did:key method: {did!r}")
    if not multibase.startswith("z"):
        raise DidError(DidFailure.INVALID_DID, "did:key value must be multibase base58btc (start with 'z')")
    if not _METHOD_SPECIFIC_ID.fullmatch(multibase):
        raise DidError(DidFailure.INVALID_DID, "did:key value has characters a DID cannot hold")
    try:
        raw = base58.b58decode(multibase[1:])
    except ValueError as exc:
        raise DidError(DidFailure.INVALID_DID, "did:key value is not valid base58btc") from exc
    codec, key = _split_multicodec(raw)
    known = _KNOWN_KEY_TYPES.get(codec)
    if known is not None and len(key) != known[1]:
        raise DidError(
            DidFailure.INVALID_PUBLIC_KEY_LENGTH,
            f"a {known[0]} key is {known[1]} bytes, this did:key carries {len(key)}",
        )
    if codec != _ED25519_PUB:
        name = known[0] if known is not None else f"multicodec 0x{codec:x}"
        raise DidError(
            DidFailure.UNSUPPORTED_PUBLIC_KEY_TYPE,
            f"did:key carries a {name} key; only Ed25519 (ed25519-pub, 0xed) is supported",
        )
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(key):
        raise DidError(
            DidFailure.INVALID_PUBLIC_KEY,
            "did:key does not carry a valid Ed25519 public key (not a prime-order curve point)",
        )
    return DidKey(did=did, multibase=multibase, public_key=key)


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 did:key, with its X25519 keyAgreement key."""
    parsed = parse_did_key(did)
    signing_id = parsed.verification_method_id
    x25519_multibase = x25519_multikey_encode(x25519_public_key_from_ed25519(parsed.public_key))
    return {
        "@context": [DID_CONTEXT],
        "id": did,
        "verificationMethod": [
            {
                "id": signing_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": parsed.multibase,
            }
        ],
        "authentication": [signing_id],
        "assertionMethod": [signing_id],
        "capabilityDelegation": [signing_id],
        "capabilityInvocation": [signing_id],
        "keyAgreement": [
            {
                "id": f"{did}#{x25519_multibase}",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": x25519_multibase,
            }
        ],
    }


class DidKeyResolver:
    """Resolves did:key identifiers; needs no network and no state."""

    method = "key"

    def resolve(self, did: str) -> dict[str, Any]:
        return did_key_document(did)


def _split_multicodec(raw: bytes) -> tuple[int, bytes]:
    """Read the unsigned-varint multicodec header (minimal encoding only) off `raw`."""
    value = 0
    for position, byte in enumerate(raw[:9]):
        value |= (byte & 0x7F) << (7 * position)
        if not byte & 0x80:
            if position > 0 and byte == 0:
                break  # a non-minimal varint: two encodings of one code are not allowed
            return value, raw[position + 1 :]
    raise DidError(DidFailure.INVALID_DID, "did:key value has no valid multicodec header")
