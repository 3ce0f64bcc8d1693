"""Typed rejections of the trust layer: a machine-readable reason and a one-line explanation."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CredentialError",
    "CredentialFailure",
    "DerivationError",
    "DerivationFailure",
    "DidError",
    "DidFailure",
    "DtgError",
    "DtgFailure",
    "KeyfileError",
    "KeyfileFailure",
    "ProofError",
    "ProofFailure",
    "RecoveryPhraseError",
    "RecoveryPhraseFailure",
    "StatusError",
    "StatusFailure",
    "TrustError",
    "WebvhError",
    "WebvhFailure",
]


class TrustError(ValueError):
    """Base of every trust-layer rejection; `str(error)` is a one-line, human-readable reason."""

    reason: StrEnum

    def __init__(self, reason: StrEnum, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RecoveryPhraseFailure(StrEnum):
    WRONG_WORD_COUNT = "wrong_word_count"
    UNKNOWN_WORD = "unknown_word"
    BAD_CHECKSUM = "bad_checksum"


class RecoveryPhraseError(TrustError):
    """A recovery phrase is not a valid BIP-39 English mnemonic of the expected length."""

    reason: RecoveryPhraseFailure

    def __init__(self, reason: RecoveryPhraseFailure, message: str) -> None:
        super().__init__(reason, message)


class DerivationFailure(StrEnum):
    BAD_SEED = "bad_seed"
    BAD_PATH = "bad_path"
    NON_HARDENED = "non_hardened_index"


class DerivationError(TrustError):
    """A SLIP-0010 derivation was asked for something the Ed25519 scheme cannot do."""

    reason: DerivationFailure

    def __init__(self, reason: DerivationFailure, message: str) -> None:
        super().__init__(reason, message)


class KeyfileFailure(StrEnum):
    MALFORMED = "malformed"
    UNSUPPORTED = "unsupported"
    UNSAFE_PARAMETERS = "unsafe_parameters"
    WRONG_PASSPHRASE = "wrong_passphrase"  # noqa: S105 - a reason code, not a secret
    DID_MISMATCH = "did_mismatch"


class KeyfileError(TrustError):
    """An encrypted keyfile cannot be read, opened or trusted."""

    reason: KeyfileFailure

    def __init__(self, reason: KeyfileFailure, message: str) -> None:
        super().__init__(reason, message)


class DidFailure(StrEnum):
    """Error codes of the did:key specification and of DID resolution."""

    INVALID_DID = "invalidDid"
    INVALID_DID_URL = "invalidDidUrl"
    INVALID_PUBLIC_KEY = "invalidPublicKey"
    INVALID_PUBLIC_KEY_LENGTH = "invalidPublicKeyLength"
    UNSUPPORTED_PUBLIC_KEY_TYPE = "unsupportedPublicKeyType"
    METHOD_NOT_SUPPORTED = "methodNotSupported"
    NOT_FOUND = "notFound"
    DEACTIVATED = "deactivated"


class DidError(TrustError):
    """A DID or DID URL is malformed, of an unsupported method or key, or not dereferenceable."""

    reason: DidFailure

    def __init__(self, reason: DidFailure, message: str) -> None:
        super().__init__(reason, message)


class ProofFailure(StrEnum):
    MALFORMED_DOCUMENT = "malformed_document"
    MISSING_PROOF = "missing_proof"
    UNSUPPORTED_PROOF_SET = "unsupported_proof_set"
    WRONG_PROOF_TYPE = "wrong_proof_type"
    WRONG_CRYPTOSUITE = "wrong_cryptosuite"
    MISSING_PROOF_VALUE = "missing_proof_value"
    MALFORMED_PROOF_VALUE = "malformed_proof_value"
    INVALID_CREATED = "invalid_created"
    PROOF_EXPIRED = "proof_expired"
    CONTEXT_MISMATCH = "context_mismatch"
    WRONG_PROOF_PURPOSE = "wrong_proof_purpose"
    UNRESOLVABLE_VERIFICATION_METHOD = "unresolvable_verification_method"
    UNKNOWN_VERIFICATION_METHOD = "unknown_verification_method"
    VERIFICATION_METHOD_NOT_ISSUER = "verification_method_not_issuer"
    INVALID_SIGNATURE = "invalid_signature"


class ProofError(TrustError):
    """A Data Integrity proof cannot be created or does not verify."""

    reason: ProofFailure

    def __init__(self, reason: ProofFailure, message: str) -> None:
        super().__init__(reason, message)


class CredentialFailure(StrEnum):
    NOT_A_CREDENTIAL = "not_a_credential"
    MISSING_ISSUER = "missing_issuer"
    ISSUER_MISMATCH = "issuer_mismatch"
    ALREADY_SIGNED = "already_signed"
    INVALID_DATETIME = "invalid_datetime"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


class CredentialError(TrustError):
    """A Verifiable Credential is not well-formed VCDM 2.0 or is outside its validity period."""

    reason: CredentialFailure

    def __init__(self, reason: CredentialFailure, message: str) -> None:
        super().__init__(reason, message)


class WebvhFailure(StrEnum):
    """Why a did:webvh DID, log or witness file was refused; `error_code` gives the spec's code."""

    INVALID_DID = "invalid_did"
    NOT_FOUND = "not_found"
    VERSION_NOT_FOUND = "version_not_found"
    MALFORMED_LOG = "malformed_log"
    MALFORMED_ENTRY = "malformed_entry"
    INVALID_PARAMETERS = "invalid_parameters"
    UNSUPPORTED_METHOD_VERSION = "unsupported_method_version"
    INVALID_SCID = "invalid_scid"
    SCID_MISMATCH = "scid_mismatch"
    INVALID_VERSION_ID = "invalid_version_id"
    VERSION_NUMBER_GAP = "version_number_gap"
    ENTRY_HASH_MISMATCH = "entry_hash_mismatch"
    INVALID_VERSION_TIME = "invalid_version_time"
    VERSION_TIME_NOT_INCREASING = "version_time_not_increasing"
    VERSION_TIME_IN_FUTURE = "version_time_in_future"
    INVALID_STATE = "invalid_state"
    DID_MOVED_WITHOUT_PORTABILITY = "did_moved_without_portability"
    MOVED_WITHOUT_ALSO_KNOWN_AS = "moved_without_also_known_as"
    MISSING_PROOF = "missing_proof"
    INVALID_PROOF = "invalid_proof"
    WRONG_CRYPTOSUITE = "wrong_cryptosuite"
    UNAUTHORIZED_KEY = "unauthorized_key"
    KEY_FRAGMENT_MISMATCH = "key_fragment_mismatch"
    PRE_ROTATION_KEYS_MISSING = "pre_rotation_keys_missing"
    PRE_ROTATION_KEY_NOT_COMMITTED = "pre_rotation_key_not_committed"
    PRE_ROTATION_HASHES_MISSING = "pre_rotation_hashes_missing"
    UPDATE_AFTER_DEACTIVATION = "update_after_deactivation"
    WITNESS_THRESHOLD_NOT_MET = "witness_threshold_not_met"
    MALFORMED_WITNESS_FILE = "malformed_witness_file"
    DID_NOT_IN_LOG = "did_not_in_log"

    @property
    def error_code(self) -> str:
        """The DID Resolution error code the did:webvh specification assigns to this failure."""
        return _WEBVH_ERROR_CODES.get(self, "invalidDid")


# Everything else is `invalidDid`, an entry with no proof at all included: that is a malformed
# log (as the did:webvh test suite expects), while `invalidProof` is for a proof that is wrong.
_WEBVH_ERROR_CODES = {
    WebvhFailure.NOT_FOUND: "notFound",
    WebvhFailure.VERSION_NOT_FOUND: "notFound",
    WebvhFailure.INVALID_PARAMETERS: "invalidParameters",
    WebvhFailure.PRE_ROTATION_KEYS_MISSING: "invalidParameters",
    WebvhFailure.PRE_ROTATION_KEY_NOT_COMMITTED: "invalidParameters",
    WebvhFailure.PRE_ROTATION_HASHES_MISSING: "invalidParameters",
    WebvhFailure.INVALID_PROOF: "invalidProof",
    WebvhFailure.WRONG_CRYPTOSUITE: "invalidProof",
    WebvhFailure.UNAUTHORIZED_KEY: "invalidProof",
    WebvhFailure.KEY_FRAGMENT_MISMATCH: "invalidProof",
}


class WebvhError(TrustError):
    """A did:webvh DID is malformed, or its log does not verify, or the version asked for is absent.

    `entry` is the 1-based position of the log entry that failed (None when no entry is at fault).
    """

    reason: WebvhFailure

    def __init__(self, reason: WebvhFailure, message: str, *, entry: int | None = None) -> None:
        super().__init__(reason, message if entry is None else f"log entry {entry}: {message}")
        self.entry = entry


class StatusFailure(StrEnum):
    """Bitstring Status List failures; the last four are the specification's own error types."""

    MALFORMED_ENTRY = "malformed_status_entry"
    MALFORMED_LIST = "malformed_status_list"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    RETRIEVAL = "STATUS_RETRIEVAL_ERROR"
    VERIFICATION = "STATUS_VERIFICATION_ERROR"
    LIST_LENGTH = "STATUS_LIST_LENGTH_ERROR"
    RANGE = "RANGE_ERROR"


class StatusError(TrustError):
    """A credential's status cannot be established, or it says the credential is revoked or suspended."""

    reason: StatusFailure

    def __init__(self, reason: StatusFailure, message: str) -> None:
        super().__init__(reason, message)


class DtgFailure(StrEnum):
    """Why a credential is not an acceptable DTG credential of the kind asked for."""

    NOT_DTG_CREDENTIAL = "not_dtg_credential"
    WRONG_TYPE = "wrong_type"
    MISSING_VALID_FROM = "missing_valid_from"
    MISSING_VALID_UNTIL = "missing_valid_until"
    VALIDITY_INVERTED = "validity_inverted"
    MISSING_SUBJECT = "missing_subject"
    NOT_A_DID = "not_a_did"
    WRONG_ISSUER = "wrong_issuer"
    SUBJECT_NOT_MEMBER_KEY = "subject_not_member_key"
    ISSUER_NOT_MEMBER_KEY = "issuer_not_member_key"
    MISSING_STATUS = "missing_status"
    INVALID_STATUS = "invalid_status"
    UNEXPECTED_DIGEST = "unexpected_digest"
    MISSING_DIGEST = "missing_digest"
    DIGEST_MISMATCH = "digest_mismatch"
    ACKNOWLEDGEMENT_MISMATCH = "acknowledgement_mismatch"
    SELF_REFERENCE = "self_reference"
    MISSING_ROLES = "missing_roles"
    UNKNOWN_ROLE = "unknown_role"
    MISSING_SCOPE = "missing_scope"
    INVALID_SCOPE = "invalid_scope"
    SCOPE_OUTLIVES_CREDENTIAL = "scope_outlives_credential"
    WRONG_COMMUNITY = "wrong_community"


class DtgError(TrustError):
    """A credential does not meet the DTG credential profile its validator checks."""

    reason: DtgFailure

    def __init__(self, reason: DtgFailure, message: str) -> None:
        super().__init__(reason, message)
