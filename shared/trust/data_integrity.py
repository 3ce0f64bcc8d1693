"""Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (W3C vc-di-eddsa), create and verify.

Each step is the specification's own algorithm, exposed so the published test vectors can check
every intermediate value: Transformation (JCS of the document without its proof), Proof
Configuration (JCS of the proof options, carrying the document's `@context`), Hashing
(SHA-256 of the configuration || SHA-256 of the document), Serialization (Ed25519 over those 64
bytes) and the proofValue (multibase base58btc of the 64-byte signature).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import base58

from shared.signing import BadSignature, SigningKey, verify_detached
from shared.trust.canonical_json import JsonError, canonicalize
from shared.trust.datetimes import format_datetime, parse_datetime
from shared.trust.errors import DidError, DidFailure, ProofError, ProofFailure
from shared.trust.resolver import (
    DidResolver,
    VerificationMethod,
    dereference_verification_method,
)

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "VerifiedProof",
    "add_proof",
    "create_proof",
    "hash_data",
    "proof_configuration",
    "proof_options",
    "transform",
    "verify_proof",
]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class VerifiedProof:
    """A proof that verified: the document it secures (without `proof`) and the key that signed."""

    document: JsonObject
    proof: JsonObject
    verification_method: VerificationMethod


def proof_options(
    verification_method: str, created: datetime, proof_purpose: str = "assertionMethod"
) -> JsonObject:
    """Proof options for an eddsa-jcs-2022 proof by `verification_method`, made at `created`."""
    return {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": format_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }


def _check_suite(options: JsonObject) -> None:
    if options.get("type") != PROOF_TYPE:
        raise ProofError(
            ProofFailure.WRONG_PROOF_TYPE,
            f"proof type is {options.get('type')!r}, expected {PROOF_TYPE!r}",
        )
    if options.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            ProofFailure.WRONG_CRYPTOSUITE,
            f"cryptosuite is {options.get('cryptosuite')!r}, expected {CRYPTOSUITE!r}",
        )


def _jcs(value: Any, what: str) -> bytes:
    try:
        return canonicalize(value)
    except JsonError as exc:
        raise ProofError(ProofFailure.MALFORMED_DOCUMENT, f"{what}: {exc}") from exc


def transform(unsecured_document: JsonObject, options: JsonObject) -> bytes:
    """Transformation (eddsa-jcs-2022): the JCS bytes of the document without its proof."""
    _check_suite(options)
    return _jcs(unsecured_document, "document")


def proof_configuration(options: JsonObject) -> bytes:
    """Proof Configuration (eddsa-jcs-2022): the JCS bytes of the proof options."""
    _check_suite(options)
    if "created" in options:
        try:
            parse_datetime(options["created"], require_timezone=False)
        except ValueError as exc:
            raise ProofError(ProofFailure.INVALID_CREATED, f"proof 'created': {exc}") from exc
    return _jcs(options, "proof options")


def hash_data(transformed_document: bytes, canonical_proof_config: bytes) -> bytes:
    """Hashing (eddsa-jcs-2022): SHA-256(proof configuration) || SHA-256(document), 64 bytes."""
    return hashlib.sha256(canonical_proof_config).digest() + hashlib.sha256(transformed_document).digest()


def create_proof(unsecured_document: JsonObject, options: JsonObject, signing_key: SigningKey) -> JsonObject:
    """Create Proof (eddsa-jcs-2022): the proof object, `proofValue` included."""
    if not isinstance(options.get("verificationMethod"), str):
        raise ProofError(ProofFailure.UNKNOWN_VERIFICATION_METHOD, "proof options name no verificationMethod")
    proof = copy.deepcopy(options)
    if "@context" in unsecured_document:
        # Step 2 of the algorithm: binds the proof to the document's contexts (proof sets, chains).
        proof["@context"] = copy.deepcopy(unsecured_document["@context"])
    canonical_config = proof_configuration(proof)
    transformed = transform(unsecured_document, proof)
    signature = signing_key.sign(hash_data(transformed, canonical_config))
    proof["proofValue"] = "z" + base58.b58encode(signature).decode("ascii")
    return proof


def add_proof(unsecured_document: JsonObject, options: JsonObject, signing_key: SigningKey) -> JsonObject:
    """A copy of the document secured with an eddsa-jcs-2022 proof."""
    if "proof" in unsecured_document:
        raise ProofError(
            ProofFailure.UNSUPPORTED_PROOF_SET, "the document already has a proof; not re-signing"
        )
    secured = copy.deepcopy(unsecured_document)
    secured["proof"] = create_proof(unsecured_document, options, signing_key)
    return secured


def verify_proof(
    secured_document: object,
    resolver: DidResolver,
    *,
    proof_purpose: str = "assertionMethod",
    expected_controller: str | None = None,
    now: datetime | None = None,
) -> VerifiedProof:
    """Verify Proof (eddsa-jcs-2022); raise ProofError naming the first reason it fails.

    `expected_controller` is the DID that must control the signing key (a credential's issuer).
    `now`, when given, is checked against the proof's optional `expires`.
    """
    if not isinstance(secured_document, dict):
        raise ProofError(ProofFailure.MALFORMED_DOCUMENT, "a secured document is a JSON object")
    proof = secured_document.get("proof")
    if proof is None:
        raise ProofError(ProofFailure.MISSING_PROOF, "the document has no proof")
    if isinstance(proof, list):
        raise ProofError(ProofFailure.UNSUPPORTED_PROOF_SET, "proof sets (several proofs) are not supported")
    if not isinstance(proof, dict):
        raise ProofError(ProofFailure.MALFORMED_DOCUMENT, "the proof is not a JSON object")
    _check_suite(proof)
    proof_bytes = _decode_proof_value(proof.get("proofValue"))

    unsecured = {name: value for name, value in secured_document.items() if name != "proof"}
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    if "@context" in options:
        if not _starts_with(unsecured.get("@context"), options["@context"]):
            raise ProofError(
                ProofFailure.CONTEXT_MISMATCH,
                "the document's @context does not start with the proof's @context",
            )
        unsecured["@context"] = options["@context"]

    if proof.get("proofPurpose") != proof_purpose:
        raise ProofError(
            ProofFailure.WRONG_PROOF_PURPOSE,
            f"proofPurpose is {proof.get('proofPurpose')!r}, expected {proof_purpose!r}",
        )
    _check_expiry(proof, now)
    method = _verification_method(proof, resolver, proof_purpose)
    if expected_controller is not None and method.controller != expected_controller:
        raise ProofError(
            ProofFailure.VERIFICATION_METHOD_NOT_ISSUER,
            f"signed with a key of {method.controller}, but the issuer is {expected_controller}",
        )

    transformed = transform(unsecured, options)
    canonical_config = proof_configuration(options)
    try:
        verify_detached(hash_data(transformed, canonical_config), proof_bytes, method.public_key)
    except BadSignature as exc:
        raise ProofError(
            ProofFailure.INVALID_SIGNATURE,
            f"signature does not verify under {method.id}: the document or its proof was altered",
        ) from exc
    return VerifiedProof(document=unsecured, proof=proof, verification_method=method)


def _decode_proof_value(value: object) -> bytes:
    if value is None:
        raise ProofError(ProofFailure.MISSING_PROOF_VALUE, "the proof has no proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError(ProofFailure.MALFORMED_PROOF_VALUE, "proofValue is not multibase base58btc ('z…')")
    try:
        raw = base58.b58decode(value[1:])
    except ValueError as exc:
        raise ProofError(ProofFailure.MALFORMED_PROOF_VALUE, "proofValue is not valid base58btc") from exc
    if len(raw) != 64:
        raise ProofError(
            ProofFailure.MALFORMED_PROOF_VALUE,
            f"proofValue must carry a 64-byte Ed25519 signature, it carries {len(raw)} bytes",
        )
    return raw


def _starts_with(document_context: object, proof_context: object) -> bool:
    document_list = document_context if isinstance(document_context, list) else [document_context]
    proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
    return document_list[: len(proof_list)] == proof_list


def _check_expiry(proof: JsonObject, now: datetime | None) -> None:
    if "expires" not in proof or now is None:
        return
    try:
        expires = parse_datetime(proof["expires"])
    except ValueError as exc:
        raise ProofError(ProofFailure.PROOF_EXPIRED, f"proof 'expires': {exc}") from exc
    if now > expires:
        raise ProofError(ProofFailure.PROOF_EXPIRED, f"the proof expired at {proof['expires']}")


def _verification_method(proof: JsonObject, resolver: DidResolver, proof_purpose: str) -> VerificationMethod:
    method_id = proof.get("verificationMethod")
    if not isinstance(method_id, str):
        raise ProofError(ProofFailure.UNKNOWN_VERIFICATION_METHOD, "the proof names no verificationMethod")
    try:
        return dereference_verification_method(resolver, method_id, proof_purpose)
    except DidError as exc:
        reason = (
            ProofFailure.UNKNOWN_VERIFICATION_METHOD
            if exc.reason is DidFailure.NOT_FOUND
            else ProofFailure.UNRESOLVABLE_VERIFICATION_METHOD
        )
        raise ProofError(reason, f"verification method {method_id}: {exc}") from exc
