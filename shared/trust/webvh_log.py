"""did:webvh log entries: the JSON Lines file, SCID and entry-hash computation, versionId syntax.

The hashes follow did:webvh v1.0 "SCID Generation and Verification" and "Entry Hash Generation
and Verification": base58btc(multihash(JCS(entry), sha2-256)). The SCID hashes the first entry
with `{SCID}` wherever the SCID will stand; each entry hash hashes the entry (without its proof)
with `versionId` set to the previous entry's versionId, or to the SCID for the first entry. That
predecessor link chains the entries, so no entry can be dropped, reordered or edited unnoticed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.trust.canonical_json import JsonError, canonicalize, loads_strict
from shared.trust.errors import WebvhError, WebvhFailure
from shared.trust.multihash import decode_sha256_multihash, sha256_multihash_base58
from shared.trust.webvh_did import SCID_PLACEHOLDER

__all__ = [
    "ENTRY_FIELDS",
    "JsonObject",
    "calculate_entry_hash",
    "calculate_scid",
    "key_hash",
    "parse_log_lines",
    "parse_version_id",
    "scid_matches",
    "serialize_log",
    "without_proof",
]

JsonObject = dict[str, Any]
ENTRY_FIELDS = ("versionId", "versionTime", "parameters", "state", "proof")
_VERSION_NUMBER = re.compile(r"[1-9][0-9]*")


def without_proof(entry: JsonObject) -> JsonObject:
    """The entry without its `proof`: what hashes and proofs are computed over."""
    return {name: value for name, value in entry.items() if name != "proof"}


def _hash(value: Any) -> str:
    try:
        return sha256_multihash_base58(canonicalize(value))
    except JsonError as exc:
        raise WebvhError(WebvhFailure.MALFORMED_ENTRY, f"cannot canonicalise the entry: {exc}") from exc


def calculate_scid(preliminary_entry: JsonObject) -> str:
    """The SCID of a preliminary first entry, written with `{SCID}` wherever the SCID goes."""
    return _hash(without_proof(preliminary_entry) | {"versionId": SCID_PLACEHOLDER})


def scid_matches(first_entry: JsonObject, scid: str) -> bool:
    """Verify SCID: put `{SCID}` back wherever the SCID appears, hash, and compare."""
    prepared = without_proof(first_entry) | {"versionId": SCID_PLACEHOLDER}
    # The spec's text replacement: every occurrence, in keys and values alike, then reparse.
    restored = json.loads(json.dumps(prepared, ensure_ascii=False).replace(scid, SCID_PLACEHOLDER))
    return _hash(restored) == scid


def calculate_entry_hash(entry: JsonObject, predecessor_version_id: str) -> str:
    """The entryHash of an entry: its hash with `versionId` set to the predecessor's versionId."""
    return _hash(without_proof(entry) | {"versionId": predecessor_version_id})


def key_hash(multikey: str) -> str:
    """The pre-rotation commitment to an update key: base58btc(multihash(multikey text))."""
    return sha256_multihash_base58(multikey.encode("utf-8"))


def parse_version_id(version_id: object, *, entry: int) -> tuple[int, str]:
    """Split `<n>-<entryHash>` into the version number and the hash, checking both forms."""
    if not isinstance(version_id, str):
        raise WebvhError(WebvhFailure.INVALID_VERSION_ID, "versionId is not a string", entry=entry)
    number, dash, entry_hash = version_id.partition("-")
    if not dash or not _VERSION_NUMBER.fullmatch(number) or "-" in entry_hash:
        raise WebvhError(
            WebvhFailure.INVALID_VERSION_ID,
            f"versionId {version_id!r} is not '<number>-<entryHash>' with exactly one dash",
            entry=entry,
        )
    try:
        decode_sha256_multihash(entry_hash)
    except ValueError as exc:
        raise WebvhError(
            WebvhFailure.INVALID_VERSION_ID,
            f"the entryHash of {version_id!r} is not a base58btc sha2-256 multihash",
            entry=entry,
        ) from exc
    return int(number), entry_hash


def parse_log_lines(log: bytes | str) -> tuple[list[JsonObject], WebvhError | None]:
    """The entries of a `did.jsonl` file, up to the first line that is not a JSON object.

    The entries before a bad line still count (a resolver may serve earlier versions), so the
    error is returned beside them rather than raised.
    """
    try:
        text = log.decode("utf-8") if isinstance(log, bytes) else log
    except UnicodeDecodeError as exc:
        return [], WebvhError(WebvhFailure.MALFORMED_LOG, f"the log is not UTF-8: {exc}")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return [], WebvhError(WebvhFailure.MALFORMED_LOG, "the log has no entries")
    entries: list[JsonObject] = []
    for position, line in enumerate(lines, start=1):
        try:
            entry = loads_strict(line.removesuffix("\r"))
        except JsonError as exc:
            return entries, WebvhError(WebvhFailure.MALFORMED_LOG, f"not a JSON line: {exc}", entry=position)
        if not isinstance(entry, dict):
            return entries, WebvhError(WebvhFailure.MALFORMED_LOG, "not a JSON object", entry=position)
        entries.append(entry)
    return entries, None


def serialize_log(entries: list[JsonObject]) -> str:
    """The `did.jsonl` text: each entry on one line without extra white space, each line ending in `\\n`."""
    return "".join(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n" for entry in entries)
