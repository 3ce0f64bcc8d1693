"""Standards-exact trust primitives: BIP-39, SLIP-0010, did:key, eddsa-jcs-2022 and VCDM 2.0."""

from __future__ import annotations

from shared.trust.credentials import issue_credential, verify_credential
from shared.trust.data_integrity import add_proof, verify_proof
from shared.trust.did_key import did_key_document, parse_did_key
from shared.trust.errors import (
    CredentialError,
    DerivationError,
    DidError,
    KeyfileError,
    ProofError,
    RecoveryPhraseError,
    TrustError,
)
from shared.trust.keyfile import read_keyfile, seal_keyfile, write_keyfile
from shared.trust.member_keys import MEMBER_SIGNING_PATH, MemberKeys
from shared.trust.recovery import new_phrase, validate_phrase
from shared.trust.resolver import DidResolver, MethodResolver, default_resolver

__all__ = [
    "MEMBER_SIGNING_PATH",
    "CredentialError",
    "DerivationError",
    "DidError",
    "DidResolver",
    "KeyfileError",
    "MemberKeys",
    "MethodResolver",
    "ProofError",
    "RecoveryPhraseError",
    "TrustError",
    "add_proof",
    "default_resolver",
    "did_key_document",
    "issue_credential",
    "new_phrase",
    "parse_did_key",
    "read_keyfile",
    "seal_keyfile",
    "validate_phrase",
    "verify_credential",
    "verify_proof",
    "write_keyfile",
]
