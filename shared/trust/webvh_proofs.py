"""The proofs of did:webvh log entries and witness approvals: eddsa-jcs-2022 by a did:key, named by value.

v1.0 allows `DataIntegrityProof` with `eddsa-jcs-2022` only, with `proofPurpose` `assertionMethod`.
The signing key is read from the proof's `did:key:<key>#<key>` verification method, whose body and
fragment must be the same key: the body names the key, and a different fragment would let a proof
claim one key while being made with another. Nothing is fetched to find a key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.trust.data_integrity import CRYPTOSUITE, PROOF_TYPE, verify_proof
from shared.trust.did_key import DidKeyResolver
from shared.trust.errors import ProofError, ProofFailure, WebvhError, WebvhFailure
from shared.trust.resolver import MethodResolver
from shared.trust.webvh_log import JsonObject, without_proof

__all__ = ["proof_key", "verify_entry_proofs", "verify_log_proof"]

_DID_KEY_ONLY = MethodResolver({"key": DidKeyResolver()})


def verify_entry_proofs(raw: JsonObject, authorised: tuple[str, ...], now: datetime, position: int) -> None:
    """Every proof on the entry must verify and be made by one of the `authorised` update keys."""
    proofs = raw.get("proof")
    proof_list = [proofs] if isinstance(proofs, dict) else proofs
    if not isinstance(proof_list, list) or not proof_list:
        raise WebvhError(WebvhFailure.MISSING_PROOF, "the entry carries no proof", entry=position)
    unsecured = without_proof(raw)
    for proof in proof_list:
        key = proof_key(proof, position)
        if key not in authorised:
            raise WebvhError(
                WebvhFailure.UNAUTHORIZED_KEY,
                f"signed by {key}, which is not an authorised update key here",
                entry=position,
            )
        verify_log_proof(unsecured, proof, now, position)


def proof_key(proof: Any, position: int | None) -> str:
    """The multikey that made `proof`, after checking its type, cryptosuite and did:key form."""
    if not isinstance(proof, dict):
        raise WebvhError(WebvhFailure.INVALID_PROOF, "a proof is not a JSON object", entry=position)
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise WebvhError(
            WebvhFailure.WRONG_CRYPTOSUITE,
            f"proof is {proof.get('type')!r}/{proof.get('cryptosuite')!r}; did:webvh:1.0 allows only "
            f"{PROOF_TYPE}/{CRYPTOSUITE}",
            entry=position,
        )
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method.startswith("did:key:"):
        raise WebvhError(WebvhFailure.INVALID_PROOF, "the proof is not made with a did:key", entry=position)
    body, _, fragment = method.removeprefix("did:key:").partition("#")
    if body != fragment:
        # The body names the key; a different fragment would claim one key while signing with another.
        raise WebvhError(
            WebvhFailure.KEY_FRAGMENT_MISMATCH,
            f"verificationMethod {method} names one key in its DID and another in its fragment",
            entry=position,
        )
    return body


def verify_log_proof(unsecured: JsonObject, proof: JsonObject, now: datetime, position: int | None) -> None:
    """Verify one eddsa-jcs-2022 proof over `unsecured` (an entry without its proof, or a versionId)."""
    try:
        verify_proof(unsecured | {"proof": proof}, _DID_KEY_ONLY, proof_purpose="assertionMethod", now=now)
    except ProofError as exc:
        reason = (
            WebvhFailure.WRONG_CRYPTOSUITE
            if exc.reason in {ProofFailure.WRONG_CRYPTOSUITE, ProofFailure.WRONG_PROOF_TYPE}
            else WebvhFailure.INVALID_PROOF
        )
        raise WebvhError(reason, f"proof does not verify: {exc}", entry=position) from exc
