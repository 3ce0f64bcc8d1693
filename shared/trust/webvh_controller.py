"""The controller's side of did:webvh v1.0: create a DID, update it, rotate its keys, deactivate it.

Each operation appends one signed entry, following the spec's "Create (Register)" and "Update
(Rotate)" steps, then runs the full log verification over the result before returning it: a log
this module hands back is one every resolver accepts (witness approvals apart, which come after).
Times are passed in, never read from a clock.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.multikey import multikey_encode
from shared.signing import SigningKey
from shared.trust.canonical_json import loads_strict
from shared.trust.data_integrity import create_proof, proof_options
from shared.trust.datetimes import format_datetime
from shared.trust.errors import WebvhError, WebvhFailure
from shared.trust.webvh_did import SCID_PLACEHOLDER
from shared.trust.webvh_log import (
    JsonObject,
    calculate_entry_hash,
    calculate_scid,
    key_hash,
    parse_log_lines,
    serialize_log,
)
from shared.trust.webvh_parameters import METHOD_V1_0, WitnessConfig
from shared.trust.webvh_verify import VerifiedLog, verify_log

__all__ = [
    "DID_V1_CONTEXT",
    "MULTIKEY_CONTEXT",
    "WebvhLog",
    "community_document",
    "create_log",
    "deactivate_log",
    "next_key_hash",
    "update_log",
    "witness_proof",
]

DID_V1_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"


@dataclass(frozen=True)
class WebvhLog:
    """A did:webvh log as its controller holds it: the entries, oldest first."""

    entries: tuple[JsonObject, ...]

    @property
    def did(self) -> str:
        """The DID as the latest entry's DID document names it."""
        did: str = self.entries[-1]["state"]["id"]
        return did

    @property
    def version_id(self) -> str:
        version_id: str = self.entries[-1]["versionId"]
        return version_id

    def to_jsonl(self) -> str:
        """The `did.jsonl` text to publish."""
        return serialize_log(list(self.entries))

    @classmethod
    def from_jsonl(cls, text: bytes | str) -> WebvhLog:
        """Read a published log (refusing a malformed file; verification is `verify`)."""
        entries, failure = parse_log_lines(text)
        if failure is not None:
            raise failure
        return cls(tuple(entries))

    def verify(self, now: datetime) -> VerifiedLog:
        return verify_log(list(self.entries), now=now, check_witnesses=False)


def next_key_hash(public_key: bytes) -> str:
    """The `nextKeyHashes` commitment to an Ed25519 key the next entry will rotate to."""
    return key_hash(multikey_encode(public_key))


def community_document(did: str, keys: Mapping[str, bytes]) -> JsonObject:
    """A DID document for `did` whose Ed25519 `keys` (fragment -> public key) authenticate and assert.

    `did` may hold `{SCID}` (a DID being created); the SCID then replaces it everywhere.
    """
    methods = [
        {
            "id": f"{did}#{fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": multikey_encode(key),
        }
        for fragment, key in keys.items()
    ]
    references = [method["id"] for method in methods]
    return {
        "@context": [DID_V1_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "authentication": list(references),
        "assertionMethod": list(references),
    }


def create_log(
    document: JsonObject,
    *,
    signing_key: SigningKey,
    version_time: datetime,
    update_keys: Sequence[bytes] | None = None,
    next_key_hashes: Sequence[str] = (),
    portable: bool = False,
    witness: WitnessConfig | None = None,
    watchers: Sequence[str] | None = None,
    ttl: int | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> WebvhLog:
    """Create a DID: the first log entry, its SCID computed and put in place of every `{SCID}`.

    `document` is the initial DID document, its `id` the DID with `{SCID}` (see `webvh_did_template`).
    `update_keys` default to the signer's key. `parameters`, when given, is used as is (with
    `"scid": "{SCID}"`) instead of being built from the keyword arguments.
    """
    if parameters is None:
        keys = update_keys if update_keys is not None else [signing_key.public_key]
        built: JsonObject = {
            "method": METHOD_V1_0,
            "scid": SCID_PLACEHOLDER,
            "updateKeys": [multikey_encode(key) for key in keys],
            "portable": portable,
        }
        if next_key_hashes:
            built["nextKeyHashes"] = list(next_key_hashes)
        if witness is not None and witness.active:
            built["witness"] = witness.to_json()
        if watchers:
            built["watchers"] = list(watchers)
        if ttl is not None:
            built["ttl"] = ttl
        parameters = built
    preliminary = {
        "versionId": SCID_PLACEHOLDER,
        "versionTime": format_datetime(version_time),
        "parameters": copy.deepcopy(dict(parameters)),
        "state": copy.deepcopy(document),
    }
    scid = calculate_scid(preliminary)
    entry: JsonObject = loads_strict(
        json.dumps(preliminary, ensure_ascii=False).replace(SCID_PLACEHOLDER, scid)
    )
    entry["versionId"] = f"1-{calculate_entry_hash(entry, scid)}"
    return _signed_and_checked(WebvhLog(()), entry, signing_key, version_time)


def update_log(
    log: WebvhLog,
    *,
    signing_key: SigningKey,
    version_time: datetime,
    document: JsonObject | None = None,
    update_keys: Sequence[bytes] | None = None,
    next_key_hashes: Sequence[str] | None = None,
    witness: WitnessConfig | None = None,
    watchers: Sequence[str] | None = None,
    ttl: int | None = None,
) -> WebvhLog:
    """Append an update: a new DID document and/or changed parameters (None keeps the current value).

    Rotating keys is an update with `update_keys`. While pre-rotation is active the entry must
    restate `update_keys` (each committed to by the previous `nextKeyHashes`) and `next_key_hashes`,
    and is signed by one of the new keys; otherwise it is signed by a key already authorised.
    """
    parameters: JsonObject = {}
    if update_keys is not None:
        parameters["updateKeys"] = [multikey_encode(key) for key in update_keys]
    if next_key_hashes is not None:
        parameters["nextKeyHashes"] = list(next_key_hashes)
    if witness is not None:
        parameters["witness"] = witness.to_json()
    if watchers is not None:
        parameters["watchers"] = list(watchers)
    if ttl is not None:
        parameters["ttl"] = ttl
    return _append(log, parameters, document, signing_key, version_time)


def deactivate_log(log: WebvhLog, *, signing_key: SigningKey, version_time: datetime) -> WebvhLog:
    """Append the entry that deactivates the DID for good, also emptying its update keys.

    Under pre-rotation the deactivating entry is signed by a committed key, which it names, and
    ends pre-rotation; without it, the entry empties `updateKeys` so no later entry can be signed.
    """
    previous = log.verify(version_time)
    previous.raise_for_failure()
    parameters: JsonObject = {"deactivated": True}
    if previous.entries[-1].parameters.pre_rotation:
        parameters |= {"updateKeys": [multikey_encode(signing_key.public_key)], "nextKeyHashes": []}
    else:
        parameters["updateKeys"] = []
    return _append(log, parameters, None, signing_key, version_time)


def witness_proof(version_id: str, witness_key: SigningKey, created: datetime) -> JsonObject:
    """A witness's approval of a log version, for the `did-witness.json` file.

    It is an eddsa-jcs-2022 proof over `{"versionId": …}` by the witness's did:key, and approves
    that version and every earlier one.
    """
    key = multikey_encode(witness_key.public_key)
    options = proof_options(f"did:key:{key}#{key}", created)
    return create_proof({"versionId": version_id}, options, witness_key)


def _append(
    log: WebvhLog,
    parameters: JsonObject,
    document: JsonObject | None,
    signing_key: SigningKey,
    when: datetime,
) -> WebvhLog:
    if not log.entries:
        raise WebvhError(WebvhFailure.MALFORMED_LOG, "there is no log to update; create one first")
    previous = log.entries[-1]
    entry: JsonObject = {
        "versionId": previous["versionId"],
        "versionTime": format_datetime(when),
        "parameters": parameters,
        "state": copy.deepcopy(document if document is not None else previous["state"]),
    }
    number = int(previous["versionId"].split("-", 1)[0]) + 1
    entry["versionId"] = f"{number}-{calculate_entry_hash(entry, previous['versionId'])}"
    return _signed_and_checked(log, entry, signing_key, when)


def _signed_and_checked(
    log: WebvhLog, entry: JsonObject, signing_key: SigningKey, when: datetime
) -> WebvhLog:
    key = multikey_encode(signing_key.public_key)
    options = proof_options(f"did:key:{key}#{key}", when)
    entry["proof"] = [create_proof(entry, options, signing_key)]
    result = WebvhLog((*log.entries, entry))
    # Verifying what was just built refuses, with the resolver's own reason, an unauthorised
    # signer, a broken pre-rotation commitment or an ill-formed document before anyone sees it.
    result.verify(when).raise_for_failure()
    return result
