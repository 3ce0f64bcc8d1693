"""Full verification of a did:webvh v1.0 log, entry by entry, as "Read (Resolve)" prescribes.

Every entry is checked, never only the last: its parameters (with pre-rotation), its versionId
and entry hash chained to the previous entry, its versionTime (UTC, strictly increasing, not in
the future of `now`), the SCID (first entry), its DID document's id, and its eddsa-jcs-2022 proof
by an authorised update key. Witness approvals are counted last. Verification stops at the first
failing entry and returns the entries before it with the failure, because the spec lets a
resolver still serve versions that precede a broken one when they are asked for explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.trust.datetimes import parse_datetime
from shared.trust.errors import DidError, WebvhError, WebvhFailure
from shared.trust.multihash import decode_sha256_multihash
from shared.trust.webvh_did import parse_webvh_did
from shared.trust.webvh_log import (
    JsonObject,
    calculate_entry_hash,
    key_hash,
    parse_log_lines,
    parse_version_id,
    scid_matches,
)
from shared.trust.webvh_parameters import Parameters, first_parameters, next_parameters
from shared.trust.webvh_proofs import verify_entry_proofs
from shared.trust.webvh_witness import WitnessLoader, apply_witnesses

__all__ = ["FUTURE_TOLERANCE", "LogEntry", "VerifiedLog", "WitnessLoader", "verify_log"]

# "Resolvers SHOULD use a tolerance of no more than 5 minutes" for versionTime ahead of their clock.
FUTURE_TOLERANCE = timedelta(minutes=5)
_REQUIRED = ("versionId", "versionTime", "parameters", "state")
_ALLOWED = {*_REQUIRED, "proof"}


@dataclass(frozen=True)
class LogEntry:
    """One verified log entry: its version, time, the parameters in force after it, and its DID document."""

    version_id: str
    version_number: int
    version_time: datetime
    version_time_text: str
    parameters: Parameters
    state: JsonObject
    entry: JsonObject


@dataclass(frozen=True)
class VerifiedLog:
    """The entries that verified, in order, and the failure that stopped verification (if any)."""

    entries: tuple[LogEntry, ...]
    failure: WebvhError | None

    def raise_for_failure(self) -> None:
        if self.failure is not None:
            raise self.failure


def verify_log(
    log: bytes | str | Sequence[JsonObject],
    *,
    now: datetime,
    witness_file: WitnessLoader | None = None,
    future_tolerance: timedelta = FUTURE_TOLERANCE,
    check_witnesses: bool = True,
) -> VerifiedLog:
    """Verify a `did.jsonl` log (its text, or its entries already parsed) at the instant `now`.

    `witness_file` is called for the `did-witness.json` text only when some entry must be witnessed.
    `check_witnesses=False` is for a controller checking an entry before its witnesses have seen it.
    """
    if isinstance(log, bytes | str):
        raw_entries, failure = parse_log_lines(log)
    else:
        raw_entries, failure = list(log), None
    entries: list[LogEntry] = []
    for position, raw in enumerate(raw_entries, start=1):
        try:
            entries.append(
                _verify_entry(raw, position, entries[-1] if entries else None, now, future_tolerance)
            )
        except WebvhError as exc:
            failure = exc
            break
    if not entries and failure is None:
        failure = WebvhError(WebvhFailure.MALFORMED_LOG, "the log has no entries")
    if check_witnesses:
        entries, failure = apply_witnesses(entries, failure, witness_file, now)
    return VerifiedLog(entries=tuple(entries), failure=failure)


def _verify_entry(
    raw: JsonObject, position: int, previous: LogEntry | None, now: datetime, tolerance: timedelta
) -> LogEntry:
    if not isinstance(raw, dict):
        raise WebvhError(WebvhFailure.MALFORMED_ENTRY, "a log entry is a JSON object", entry=position)
    missing = [name for name in _REQUIRED if name not in raw]
    extra = sorted(set(raw) - _ALLOWED)
    if missing or extra:
        detail = f"missing {', '.join(missing)}" if missing else f"unexpected {', '.join(extra)}"
        raise WebvhError(WebvhFailure.MALFORMED_ENTRY, f"not a log entry ({detail})", entry=position)
    if previous is not None and previous.parameters.deactivated:
        raise WebvhError(
            WebvhFailure.UPDATE_AFTER_DEACTIVATION,
            "the DID was deactivated by the entry before",
            entry=position,
        )
    parameters = _parameters(raw["parameters"], previous, position)
    number, entry_hash = parse_version_id(raw["versionId"], entry=position)
    expected = 1 if previous is None else previous.version_number + 1
    if number != expected:
        raise WebvhError(
            WebvhFailure.VERSION_NUMBER_GAP,
            f"version number {number} where {expected} was due",
            entry=position,
        )
    version_time = _version_time(raw["versionTime"], previous, now, tolerance, position)
    if previous is None:
        _check_scid(raw, parameters.scid, position)
    predecessor = parameters.scid if previous is None else previous.version_id
    if calculate_entry_hash(raw, predecessor) != entry_hash:
        raise WebvhError(
            WebvhFailure.ENTRY_HASH_MISMATCH,
            "the entry hash does not match its content and predecessor: edited, reordered or forged",
            entry=position,
        )
    state = _state(raw["state"], parameters, previous, position)
    # With pre-rotation (and in the first entry) the entry's own keys sign it; otherwise those before it.
    signers = (
        previous.parameters if previous is not None and not previous.parameters.pre_rotation else parameters
    )
    verify_entry_proofs(raw, signers.update_keys, now, position)
    return LogEntry(
        version_id=raw["versionId"],
        version_number=number,
        version_time=version_time,
        version_time_text=raw["versionTime"],
        parameters=parameters,
        state=state,
        entry=raw,
    )


def _parameters(raw: Any, previous: LogEntry | None, position: int) -> Parameters:
    if previous is None:
        return first_parameters(raw, entry=position)
    parameters = next_parameters(previous.parameters, raw, entry=position)
    if previous.parameters.pre_rotation:
        # Pre-rotation: the keys must be restated (never inherited) and each one committed to.
        if raw.get("updateKeys") is None:
            raise WebvhError(
                WebvhFailure.PRE_ROTATION_KEYS_MISSING,
                "pre-rotation is active, so the entry must state its updateKeys",
                entry=position,
            )
        if "nextKeyHashes" not in raw:
            raise WebvhError(
                WebvhFailure.PRE_ROTATION_HASHES_MISSING,
                "pre-rotation is active, so the entry must state its nextKeyHashes",
                entry=position,
            )
        for key in parameters.update_keys:
            if key_hash(key) not in previous.parameters.next_key_hashes:
                raise WebvhError(
                    WebvhFailure.PRE_ROTATION_KEY_NOT_COMMITTED,
                    f"update key {key} was not committed to in the previous entry's nextKeyHashes",
                    entry=position,
                )
    return parameters


def _version_time(
    value: Any, previous: LogEntry | None, now: datetime, tolerance: timedelta, position: int
) -> datetime:
    try:
        moment = parse_datetime(value)
    except ValueError as exc:
        raise WebvhError(WebvhFailure.INVALID_VERSION_TIME, f"versionTime: {exc}", entry=position) from exc
    if moment.utcoffset() != timedelta(0):
        raise WebvhError(
            WebvhFailure.INVALID_VERSION_TIME, f"versionTime {value} is not in UTC", entry=position
        )
    if previous is not None and moment <= previous.version_time:
        raise WebvhError(
            WebvhFailure.VERSION_TIME_NOT_INCREASING,
            f"versionTime {value} is not later than the previous entry's {previous.version_time_text}",
            entry=position,
        )
    if moment > now + tolerance:
        raise WebvhError(
            WebvhFailure.VERSION_TIME_IN_FUTURE, f"versionTime {value} is in the future", entry=position
        )
    return moment


def _check_scid(raw: JsonObject, scid: str, position: int) -> None:
    try:
        decode_sha256_multihash(scid)
    except ValueError as exc:
        raise WebvhError(WebvhFailure.INVALID_SCID, f"scid: {exc}", entry=position) from exc
    if not scid_matches(raw, scid):
        raise WebvhError(
            WebvhFailure.INVALID_SCID, "the SCID is not the hash of the first entry", entry=position
        )


def _state(value: Any, parameters: Parameters, previous: LogEntry | None, position: int) -> JsonObject:
    if not isinstance(value, dict):
        raise WebvhError(WebvhFailure.INVALID_STATE, "'state' is not a DID document object", entry=position)
    did = value.get("id")
    try:
        parsed = parse_webvh_did(did) if isinstance(did, str) else None
    except DidError as exc:
        raise WebvhError(WebvhFailure.INVALID_STATE, f"state.id: {exc}", entry=position) from exc
    if parsed is None:
        raise WebvhError(WebvhFailure.INVALID_STATE, "state.id is not a string", entry=position)
    if parsed.scid != parameters.scid:
        raise WebvhError(
            WebvhFailure.SCID_MISMATCH,
            f"state.id carries SCID {parsed.scid}, but the DID's SCID is {parameters.scid}",
            entry=position,
        )
    if previous is not None and did != previous.state["id"]:
        if not previous.parameters.portable:
            raise WebvhError(
                WebvhFailure.DID_MOVED_WITHOUT_PORTABILITY,
                f"the DID moved from {previous.state['id']} to {did} but is not portable",
                entry=position,
            )
        aliases = value.get("alsoKnownAs")
        if not isinstance(aliases, list) or previous.state["id"] not in aliases:
            raise WebvhError(
                WebvhFailure.MOVED_WITHOUT_ALSO_KNOWN_AS,
                f"a moved DID must list its prior DID {previous.state['id']} in alsoKnownAs",
                entry=position,
            )
    return value
