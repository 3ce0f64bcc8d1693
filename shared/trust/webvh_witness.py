"""did:webvh witnesses: which entries need approvals, and whether `did-witness.json` supplies enough.

Counted after every other check ("Witness verification MUST NOT substitute for entry-hash or
signature verification"). Each witness counts once per entry however many proofs it has; a proof
on a version approves that version and every earlier one; proofs on versionIds not in the verified
log, proofs that fail and proofs by keys that are not witnesses count for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.trust.canonical_json import JsonError, loads_strict
from shared.trust.errors import WebvhError, WebvhFailure
from shared.trust.webvh_parameters import WitnessConfig
from shared.trust.webvh_proofs import proof_key, verify_log_proof

if TYPE_CHECKING:
    from shared.trust.webvh_verify import LogEntry

__all__ = ["WitnessLoader", "apply_witnesses", "required_witness"]

WitnessLoader = Callable[[], bytes | str | None]


def required_witness(entries: list[LogEntry], index: int) -> WitnessConfig:
    """The witness rule an entry is held to: the one in force before it, or its own when none was.

    A new witness list takes effect after the entry that sets it, except when witnessing starts
    (from `{}`), which applies at once; so is the entry turning witnessing off held to the old list.
    """
    if index == 0 or not entries[index - 1].parameters.witness.active:
        return entries[index].parameters.witness
    return entries[index - 1].parameters.witness


def apply_witnesses(
    entries: list[LogEntry], failure: WebvhError | None, witness_file: WitnessLoader | None, now: datetime
) -> tuple[list[LogEntry], WebvhError | None]:
    """The entries that are witnessed as required, and the failure at the first that is not."""
    rules = [required_witness(entries, index) for index in range(len(entries))]
    if not any(rule.active for rule in rules):
        return entries, failure
    approvals, file_error = _witness_approvals(entries, witness_file, now)
    for index, rule in enumerate(rules):
        if not rule.active:
            continue
        approving = {witness for witness in rule.witnesses if approvals.get(witness, 0) >= index + 1}
        if len(approving) < rule.threshold:
            detail = f" ({file_error})" if file_error else ""
            witness_failure = WebvhError(
                WebvhFailure.WITNESS_THRESHOLD_NOT_MET,
                f"{len(approving)} of the {rule.threshold} witness approvals needed{detail}",
                entry=index + 1,
            )
            return entries[:index], witness_failure
    return entries, failure


def _witness_approvals(
    entries: list[LogEntry], witness_file: WitnessLoader | None, now: datetime
) -> tuple[dict[str, int], str | None]:
    """For each witness did:key, the highest version number it validly approved.

    A witness's proof on a version approves every earlier version too. Proofs on versionIds not in
    the verified log, proofs that fail, and proofs by keys that are not witnesses count for nothing.
    """
    text = witness_file() if witness_file is not None else None
    if text is None:
        return {}, "no did-witness.json"
    try:
        records = loads_strict(text)
    except JsonError as exc:
        return {}, f"did-witness.json: {exc}"
    if not isinstance(records, list):
        return {}, "did-witness.json is not a JSON array"
    numbers = {entry.version_id: entry.version_number for entry in entries}
    approvals: dict[str, int] = {}
    for record in records:
        if not isinstance(record, dict) or record.get("versionId") not in numbers:
            continue
        proofs = record.get("proof")
        for proof in proofs if isinstance(proofs, list) else []:
            witness = _witness_of(record["versionId"], proof, now)
            if witness is not None:
                approvals[witness] = max(approvals.get(witness, 0), numbers[record["versionId"]])
    return approvals, None


def _witness_of(version_id: str, proof: Any, now: datetime) -> str | None:
    try:
        key = proof_key(proof, None)
        verify_log_proof({"versionId": version_id}, proof, now, None)
    except WebvhError:
        return None
    return f"did:key:{key}"
