"""did:webvh v1.0 log parameters: their allowed values, defaults and how each entry changes them.

Every entry's `parameters` object is checked against "did:webvh DID Method Parameters": only the
names that version defines, each with its type and range. A value that does not conform refuses
the entry (`invalidParameters`), never silently falls back to a default. JSON `null`, which early
implementations wrote for "reset", is read as the parameter's default, as the spec advises.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from shared.multikey import MultikeyError, multikey_decode
from shared.trust.did_key import parse_did_key
from shared.trust.errors import DidError, WebvhError, WebvhFailure

__all__ = [
    "METHOD_V1_0",
    "Parameters",
    "WitnessConfig",
    "first_parameters",
    "next_parameters",
]

METHOD_V1_0 = "did:webvh:1.0"
_NAMES = {
    "method",
    "scid",
    "updateKeys",
    "nextKeyHashes",
    "witness",
    "watchers",
    "portable",
    "deactivated",
    "ttl",
}
_DEFAULT_TTL = 3600
_MAX_TTL = 2**31


@dataclass(frozen=True)
class WitnessConfig:
    """The `witness` parameter: `threshold` distinct approvals needed from the did:key `witnesses`."""

    threshold: int = 0
    witnesses: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.witnesses)

    def to_json(self) -> dict[str, Any]:
        if not self.active:
            return {}
        return {"threshold": self.threshold, "witnesses": [{"id": witness} for witness in self.witnesses]}


@dataclass(frozen=True)
class Parameters:
    """The parameters in force after an entry: its own values over those inherited from earlier entries."""

    method: str
    scid: str
    update_keys: tuple[str, ...]
    next_key_hashes: tuple[str, ...] = ()
    witness: WitnessConfig = WitnessConfig()
    watchers: tuple[str, ...] = ()
    portable: bool = False
    deactivated: bool = False
    ttl: int = _DEFAULT_TTL

    @property
    def pre_rotation(self) -> bool:
        """Whether the next entry must rotate to keys committed in `next_key_hashes`."""
        return bool(self.next_key_hashes)


def first_parameters(raw: object, *, entry: int = 1) -> Parameters:
    """The parameters of the first entry, where `method`, `scid` and `updateKeys` are required."""
    values = _checked_object(raw, entry)
    for required in ("method", "scid", "updateKeys"):
        if values.get(required) is None:
            raise _bad(f"the first entry must set '{required}'", entry)
    method = _method(values["method"], entry)
    scid = values["scid"]
    if not isinstance(scid, str):
        raise _bad("'scid' is not a string", entry)
    base = Parameters(method=method, scid=scid, update_keys=())
    return _apply(base, values, entry, first=True)


def next_parameters(previous: Parameters, raw: object, *, entry: int) -> Parameters:
    """The parameters after a later entry, whose `parameters` override only the names they set."""
    values = _checked_object(raw, entry)
    if "scid" in values:
        raise _bad("'scid' may only appear in the first entry", entry)
    if "method" in values and values["method"] is not None:
        _method(values["method"], entry)
    return _apply(previous, values, entry, first=False)


def _bad(message: str, entry: int) -> WebvhError:
    return WebvhError(WebvhFailure.INVALID_PARAMETERS, message, entry=entry)


def _checked_object(raw: object, entry: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _bad("'parameters' is not a JSON object", entry)
    unknown = sorted(set(raw) - _NAMES)
    if unknown:
        raise _bad(f"unknown parameter(s) {', '.join(unknown)} for {METHOD_V1_0}", entry)
    return raw


def _method(value: object, entry: int) -> str:
    if value != METHOD_V1_0:
        # Unknown versions are refused outright: never read as, or downgraded to, one we know.
        raise WebvhError(
            WebvhFailure.UNSUPPORTED_METHOD_VERSION,
            f"method {value!r} is not {METHOD_V1_0!r}, the only version supported",
            entry=entry,
        )
    return METHOD_V1_0


def _apply(base: Parameters, values: dict[str, Any], entry: int, *, first: bool) -> Parameters:
    changes: dict[str, Any] = {}
    if "updateKeys" in values:
        changes["update_keys"] = _update_keys(values["updateKeys"], entry)
    if "nextKeyHashes" in values:
        changes["next_key_hashes"] = _strings(values["nextKeyHashes"], "nextKeyHashes", entry)
    if "witness" in values:
        changes["witness"] = _witness(values["witness"], entry)
    if "watchers" in values:
        changes["watchers"] = _strings(values["watchers"], "watchers", entry)
    if "portable" in values:
        portable = _boolean(values["portable"], "portable", entry)
        if portable and not first:
            raise _bad("'portable' can only be turned on in the first entry", entry)
        changes["portable"] = portable
    if "deactivated" in values:
        changes["deactivated"] = _boolean(values["deactivated"], "deactivated", entry)
    if "ttl" in values:
        changes["ttl"] = _ttl(values["ttl"], entry)
    return replace(base, **changes)


def _strings(value: object, name: str, entry: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise _bad(f"'{name}' is not a list of non-empty strings", entry)
    if len(set(value)) != len(value):
        raise _bad(f"'{name}' lists a value twice", entry)
    return tuple(value)


def _update_keys(value: object, entry: int) -> tuple[str, ...]:
    keys = _strings(value, "updateKeys", entry)
    for key in keys:
        try:
            multikey_decode(key)
        except MultikeyError as exc:
            # did:webvh 1.0 signs with eddsa-jcs-2022 only, so only Ed25519 keys can authorise.
            raise _bad(f"update key {key!r} is not an Ed25519 Multikey: {exc}", entry) from exc
    return keys


def _boolean(value: object, name: str, entry: int) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _bad(f"'{name}' is not true or false", entry)
    return value


def _ttl(value: object, entry: int) -> int:
    if value is None:
        return _DEFAULT_TTL
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_TTL:
        raise _bad(f"'ttl' must be an integer from 0 to 2^31, not {value!r}", entry)
    return value


def _witness(value: object, entry: int) -> WitnessConfig:
    if value is None or value == {}:
        return WitnessConfig()
    if not isinstance(value, dict) or set(value) - {"threshold", "witnesses"}:
        raise _bad("'witness' must be {} or {threshold, witnesses}", entry)
    witnesses = value.get("witnesses")
    if not isinstance(witnesses, list) or not witnesses:
        raise _bad("'witness.witnesses' must be a non-empty list", entry)
    ids: list[str] = []
    for witness in witnesses:
        if not isinstance(witness, dict) or not isinstance(witness.get("id"), str):
            raise _bad("each witness must be an object with an 'id'", entry)
        ids.append(_witness_id(witness["id"], entry))
    if len(set(ids)) != len(ids):
        raise _bad("a witness is listed twice; each may approve only once", entry)
    threshold = value.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 1 <= threshold <= len(ids):
        raise _bad(f"'witness.threshold' must be an integer from 1 to {len(ids)}, not {threshold!r}", entry)
    return WitnessConfig(threshold=threshold, witnesses=tuple(ids))


def _witness_id(value: str, entry: int) -> str:
    normalised = unicodedata.normalize("NFC", value)
    try:
        parse_did_key(normalised)
    except DidError as exc:
        # Checked here, not when a proof arrives, so a bad witness list can never take effect.
        raise _bad(f"witness {value!r} is not an Ed25519 did:key: {exc}", entry) from exc
    return normalised
