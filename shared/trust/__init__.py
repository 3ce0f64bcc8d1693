"""Standards-exact trust primitives: keys, did:key, did:webvh, eddsa-jcs-2022, VCDM 2.0, status lists, DTG."""

from __future__ import annotations

from shared.trust.credentials import issue_credential, sign_credential, verify_credential
from shared.trust.data_integrity import add_proof, verify_proof
from shared.trust.did_key import did_key_document, parse_did_key
from shared.trust.errors import (
    CredentialError,
    DerivationError,
    DidError,
    DtgError,
    KeyfileError,
    ProofError,
    RecoveryPhraseError,
    StatusError,
    TrustError,
    WebvhError,
)
from shared.trust.fetching import Fetcher, FetchError
from shared.trust.keyfile import read_keyfile, seal_keyfile, write_keyfile
from shared.trust.member_keys import MEMBER_SIGNING_PATH, MemberKeys
from shared.trust.recovery import new_phrase, validate_phrase
from shared.trust.resolver import DidResolver, MethodResolver, default_resolver
from shared.trust.status_list import StatusBitstring, StatusPurpose, status_list_credential, status_list_entry
from shared.trust.webvh_controller import WebvhLog, create_log, deactivate_log, update_log
from shared.trust.webvh_did import did_log_url, parse_webvh_did, webvh_did_template
from shared.trust.webvh_resolver import WebvhResolver, resolve_webvh
from shared.trust.webvh_verify import verify_log

__all__ = [
    "MEMBER_SIGNING_PATH",
    "CredentialError",
    "DerivationError",
    "DidError",
    "DidResolver",
    "DtgError",
    "FetchError",
    "Fetcher",
    "KeyfileError",
    "MemberKeys",
    "MethodResolver",
    "ProofError",
    "RecoveryPhraseError",
    "StatusBitstring",
    "StatusError",
    "StatusPurpose",
    "TrustError",
    "WebvhError",
    "WebvhLog",
    "WebvhResolver",
    "add_proof",
    "create_log",
    "deactivate_log",
    "default_resolver",
    "did_key_document",
    "did_log_url",
    "issue_credential",
    "new_phrase",
    "parse_did_key",
    "parse_webvh_did",
    "read_keyfile",
    "resolve_webvh",
    "seal_keyfile",
    "sign_credential",
    "status_list_credential",
    "status_list_entry",
    "update_log",
    "validate_phrase",
    "verify_credential",
    "verify_log",
    "verify_proof",
    "webvh_did_template",
    "write_keyfile",
]
