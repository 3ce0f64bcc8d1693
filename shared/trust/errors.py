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
    "KeyfileError",
    "KeyfileFailure",
    "ProofError",
    "ProofFailure",
    "RecoveryPhraseError",
    "RecoveryPhraseFailure",
    "TrustError",
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
