"""A community's did:webvh over its life: created, updated, rotated (with pre-rotation), deactivated.

Also what a resolver must notice when a published log is tampered with: each kind of damage is
refused with its own reason, and the versions before the damage stay resolvable on request.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.multikey import multikey_encode
from shared.signing import SigningKey
from shared.trust.data_integrity import create_proof, proof_options
from shared.trust.errors import WebvhError, WebvhFailure
from shared.trust.webvh_controller import (
    WebvhLog,
    community_document,
    create_log,
    deactivate_log,
    next_key_hash,
    update_log,
    witness_proof,
)
from shared.trust.webvh_did import webvh_did_template
from shared.trust.webvh_log import calculate_entry_hash, serialize_log, without_proof
from shared.trust.webvh_parameters import WitnessConfig
from shared.trust.webvh_resolver import resolve_webvh
from shared.trust.webvh_verify import verify_log

DAY_0 = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _key(seed: int) -> SigningKey:
    return SigningKey(bytes([seed]) * 32)


UPDATE, NEXT, ATTACKER, ASSERTION = _key(1), _key(2), _key(3), _key(4)


def _day(days: int) -> datetime:
    return DAY_0 + timedelta(days=days)


def _created(**options: Any) -> WebvhLog:
    template = webvh_did_template("river.example", path=("communities", "river"))
    document = community_document(template, {"assert-1": ASSERTION.public_key})
    return create_log(document, signing_key=UPDATE, version_time=DAY_0, **options)


def _failure(entries: list[dict[str, Any]], **options: Any) -> WebvhError:
    failure = verify_log(serialize_log(entries), now=NOW, **options).failure
    assert failure is not None
    return failure


def _resealed(entries: list[dict[str, Any]], index: int, key: SigningKey) -> list[dict[str, Any]]:
    """Re-hash and re-sign entry `index` (> 0) after a test edited it: a consistent forgery."""
    forged = copy.deepcopy(entries)
    entry = without_proof(forged[index])
    previous = forged[index - 1]["versionId"]
    entry["versionId"] = f"{index + 1}-{calculate_entry_hash(entry, previous)}"
    multikey = multikey_encode(key.public_key)
    options = proof_options(f"did:key:{multikey}#{multikey}", _day(index))
    entry["proof"] = [create_proof(entry, options, key)]
    forged[index] = entry
    return forged


def test_a_new_did_resolves_to_the_document_it_was_created_with() -> None:
    log = _created()

    resolution = resolve_webvh(log.did, log.to_jsonl(), now=NOW)

    assert log.did.startswith("did:webvh:Qm")
    assert log.did.endswith(":river.example:communities:river")
    assert resolution.document["assertionMethod"] == [f"{log.did}#assert-1"]
    assert resolution.metadata["versionNumber"] == 1
    assert resolution.metadata["scid"] == log.did.split(":")[2]
    assert "{SCID}" not in log.to_jsonl()
    assert log.to_jsonl().count("\n") == 1
    assert ": " not in log.to_jsonl()


def test_an_update_adds_a_version_and_the_earlier_one_stays_resolvable() -> None:
    log = _created()
    new_key = _key(9)
    document = community_document(log.did, {"assert-1": ASSERTION.public_key, "assert-2": new_key.public_key})

    log = update_log(log, signing_key=UPDATE, version_time=_day(1), document=document)

    latest = resolve_webvh(log.did, log.to_jsonl(), now=NOW)
    first = resolve_webvh(f"{log.did}?versionNumber=1", log.to_jsonl(), now=NOW)
    by_time = resolve_webvh(f"{log.did}?versionTime=2025-01-01T12:00:00Z", log.to_jsonl(), now=NOW)
    assert len(latest.document["verificationMethod"]) == 2
    assert latest.metadata["versionId"] == log.version_id
    assert first.document["assertionMethod"] == [f"{log.did}#assert-1"]
    assert by_time.metadata["versionNumber"] == 1
    assert first.metadata["updated"] == latest.metadata["updated"] == "2025-01-02T00:00:00Z"


def test_without_pre_rotation_the_old_key_signs_the_rotation_and_then_loses_its_power() -> None:
    log = _created()

    log = update_log(log, signing_key=UPDATE, version_time=_day(1), update_keys=[NEXT.public_key])

    with pytest.raises(WebvhError) as caught:
        update_log(log, signing_key=UPDATE, version_time=_day(2))
    assert caught.value.reason is WebvhFailure.UNAUTHORIZED_KEY
    assert update_log(log, signing_key=NEXT, version_time=_day(2)).entries[-1]["versionId"].startswith("3-")


def test_an_update_signed_by_a_key_never_authorised_is_refused() -> None:
    with pytest.raises(WebvhError) as caught:
        update_log(_created(), signing_key=ATTACKER, version_time=_day(1))

    assert caught.value.reason is WebvhFailure.UNAUTHORIZED_KEY


def test_with_pre_rotation_only_the_committed_key_can_take_over() -> None:
    log = _created(next_key_hashes=[next_key_hash(NEXT.public_key)])
    rotate = {"version_time": _day(1), "next_key_hashes": [next_key_hash(_key(7).public_key)]}

    with pytest.raises(WebvhError) as stolen:
        # A thief holding the current key cannot rotate to a key of their own...
        update_log(log, signing_key=ATTACKER, update_keys=[ATTACKER.public_key], **rotate)
    with pytest.raises(WebvhError) as old:
        # ...nor keep signing with the current key, which pre-rotation retires.
        update_log(log, signing_key=UPDATE, update_keys=[NEXT.public_key], **rotate)
    rotated = update_log(log, signing_key=NEXT, update_keys=[NEXT.public_key], **rotate)

    assert stolen.value.reason is WebvhFailure.PRE_ROTATION_KEY_NOT_COMMITTED
    assert old.value.reason is WebvhFailure.UNAUTHORIZED_KEY
    assert resolve_webvh(rotated.did, rotated.to_jsonl(), now=NOW).metadata["versionNumber"] == 2


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"next_key_hashes": ["QmNext"]}, WebvhFailure.PRE_ROTATION_KEYS_MISSING),
        ({"update_keys": [NEXT.public_key]}, WebvhFailure.PRE_ROTATION_HASHES_MISSING),
    ],
    ids=["keys-inherited", "no-new-commitment"],
)
def test_under_pre_rotation_an_entry_must_restate_keys_and_commitments(
    options: dict[str, Any], reason: WebvhFailure
) -> None:
    log = _created(next_key_hashes=[next_key_hash(NEXT.public_key)])

    with pytest.raises(WebvhError) as caught:
        update_log(log, signing_key=NEXT, version_time=_day(1), **options)

    assert caught.value.reason is reason


def test_a_deactivated_did_reports_it_and_accepts_no_further_entry() -> None:
    log = deactivate_log(_created(), signing_key=UPDATE, version_time=_day(1))

    resolution = resolve_webvh(log.did, log.to_jsonl(), now=NOW)
    with pytest.raises(WebvhError) as caught:
        update_log(log, signing_key=UPDATE, version_time=_day(2))

    assert resolution.deactivated
    assert log.entries[-1]["parameters"] == {"deactivated": True, "updateKeys": []}
    assert caught.value.reason is WebvhFailure.UPDATE_AFTER_DEACTIVATION


def test_deactivating_under_pre_rotation_is_signed_by_the_committed_key() -> None:
    log = _created(next_key_hashes=[next_key_hash(NEXT.public_key)])

    log = deactivate_log(log, signing_key=NEXT, version_time=_day(1))

    assert resolve_webvh(log.did, log.to_jsonl(), now=NOW).deactivated


# --- a published log that was tampered with ---


def _three_versions() -> list[dict[str, Any]]:
    log = update_log(_created(), signing_key=UPDATE, version_time=_day(1), ttl=60)
    return list(update_log(log, signing_key=UPDATE, version_time=_day(2), ttl=120).entries)


def _edit_state(entries: list[dict[str, Any]]) -> None:
    entries[1]["state"]["alsoKnownAs"] = ["did:web:evil.example"]


@pytest.mark.parametrize(
    ("damage", "reason", "entry"),
    [
        (_edit_state, WebvhFailure.ENTRY_HASH_MISMATCH, 2),
        (lambda e: e[0]["state"].update(alsoKnownAs=["x"]), WebvhFailure.INVALID_SCID, 1),
        (lambda e: e.pop(1), WebvhFailure.VERSION_NUMBER_GAP, 2),
        (lambda e: e.reverse(), WebvhFailure.INVALID_PARAMETERS, 1),
        (lambda e: e[1].update(versionId="2-x-y"), WebvhFailure.INVALID_VERSION_ID, 2),
        (
            lambda e: e[1].update(versionTime="2025-01-02T01:00:00+01:00"),
            WebvhFailure.INVALID_VERSION_TIME,
            2,
        ),
        (
            lambda e: e[2].update(versionTime="2025-01-02T00:00:00Z"),
            WebvhFailure.VERSION_TIME_NOT_INCREASING,
            3,
        ),
        (lambda e: e[1].update(proof=e[2]["proof"]), WebvhFailure.INVALID_PROOF, 2),
        (lambda e: e[1].update(proof=[]), WebvhFailure.MISSING_PROOF, 2),
        (lambda e: e[1]["proof"][0].update(cryptosuite="eddsa-rdfc-2022"), WebvhFailure.WRONG_CRYPTOSUITE, 2),
        (lambda e: e[1].update(note="hi"), WebvhFailure.MALFORMED_ENTRY, 2),
        (lambda e: e[1]["parameters"].update(colour="red"), WebvhFailure.INVALID_PARAMETERS, 2),
        (lambda e: e[1]["parameters"].update(portable=True), WebvhFailure.INVALID_PARAMETERS, 2),
        (
            lambda e: e[1]["parameters"].update(scid=e[0]["parameters"]["scid"]),
            WebvhFailure.INVALID_PARAMETERS,
            2,
        ),
        (lambda e: e[1]["parameters"].update(ttl=-1), WebvhFailure.INVALID_PARAMETERS, 2),
    ],
    ids=[
        "edited-state",
        "edited-first-entry",
        "dropped-entry",
        "reordered",
        "two-dashes",
        "not-utc",
        "time-not-increasing",
        "proof-of-another-entry",
        "no-proof",
        "wrong-cryptosuite",
        "unknown-field",
        "unknown-parameter",
        "late-portability",
        "scid-restated",
        "negative-ttl",
    ],
)
def test_damage_to_a_published_log_is_refused_with_its_reason(
    damage: Any, reason: WebvhFailure, entry: int
) -> None:
    entries = _three_versions()
    damage(entries)

    failure = _failure(entries)

    assert failure.reason is reason
    assert failure.entry == entry


def test_a_forged_entry_with_a_sound_hash_chain_is_refused_for_its_signer() -> None:
    entries = _three_versions()
    _edit_state(entries)

    failure = _failure(_resealed(entries, 1, ATTACKER))

    assert failure.reason is WebvhFailure.UNAUTHORIZED_KEY


def test_a_log_entry_in_the_future_of_the_resolver_is_refused() -> None:
    failure = verify_log(_created().to_jsonl(), now=DAY_0 - timedelta(minutes=6)).failure

    assert failure is not None
    assert failure.reason is WebvhFailure.VERSION_TIME_IN_FUTURE
    assert verify_log(_created().to_jsonl(), now=DAY_0 - timedelta(minutes=4)).failure is None


def test_versions_before_a_broken_entry_are_served_only_when_asked_for() -> None:
    entries = _three_versions()
    did = entries[0]["state"]["id"]
    entries[2]["proof"] = []
    text = serialize_log(entries)

    with pytest.raises(WebvhError) as latest:
        resolve_webvh(did, text, now=NOW)
    with pytest.raises(WebvhError) as broken:
        resolve_webvh(f"{did}?versionNumber=3", text, now=NOW)
    earlier = resolve_webvh(f"{did}?versionId={entries[1]['versionId']}", text, now=NOW)

    assert latest.value.reason is broken.value.reason is WebvhFailure.MISSING_PROOF
    assert earlier.metadata["versionNumber"] == 2
    assert earlier.metadata["updated"] == entries[1]["versionTime"]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("?versionNumber=7", WebvhFailure.VERSION_NOT_FOUND),
        ("?versionId=1-QmNope", WebvhFailure.VERSION_NOT_FOUND),
        ("?versionTime=2024-12-31T00:00:00Z", WebvhFailure.VERSION_NOT_FOUND),
        ("?versionNumber=1&versionNumber=2", WebvhFailure.VERSION_NOT_FOUND),
    ],
)
def test_a_version_that_does_not_exist_is_not_found(query: str, reason: WebvhFailure) -> None:
    log = _created()

    with pytest.raises(WebvhError) as caught:
        resolve_webvh(log.did + query, log.to_jsonl(), now=NOW)

    assert caught.value.reason is reason
    assert caught.value.reason.error_code == "notFound"


def test_a_log_served_for_another_did_is_refused() -> None:
    log = _created()
    other = _created(ttl=5)

    with pytest.raises(WebvhError) as caught:
        resolve_webvh(other.did, log.to_jsonl(), now=NOW)

    assert caught.value.reason is WebvhFailure.SCID_MISMATCH


def test_a_non_portable_did_cannot_move_and_a_portable_one_must_say_where_it_was() -> None:
    fixed, portable = _created(), _created(portable=True)

    def moved(log: WebvhLog, aliases: list[str]) -> dict[str, Any]:
        new_id = log.did.replace("river.example", "lake.example")
        document = json.loads(json.dumps(log.entries[-1]["state"]).replace(log.did, new_id))
        return document | ({"alsoKnownAs": aliases} if aliases else {})

    with pytest.raises(WebvhError) as not_portable:
        update_log(fixed, signing_key=UPDATE, version_time=_day(1), document=moved(fixed, [fixed.did]))
    with pytest.raises(WebvhError) as no_alias:
        update_log(portable, signing_key=UPDATE, version_time=_day(1), document=moved(portable, []))
    moved_log = update_log(
        portable, signing_key=UPDATE, version_time=_day(1), document=moved(portable, [portable.did])
    )

    assert not_portable.value.reason is WebvhFailure.DID_MOVED_WITHOUT_PORTABILITY
    assert no_alias.value.reason is WebvhFailure.MOVED_WITHOUT_ALSO_KNOWN_AS
    assert resolve_webvh(moved_log.did, moved_log.to_jsonl(), now=NOW).document["id"] == moved_log.did
    assert moved_log.did.endswith(":lake.example:communities:river")
    # The old name still resolves, to the moved document: the log is the DID's, wherever it went.
    assert resolve_webvh(portable.did, moved_log.to_jsonl(), now=NOW).document["id"] == moved_log.did


# --- witnesses ---

WITNESS_A, WITNESS_B, STRANGER = _key(20), _key(21), _key(22)


def _witnessed() -> WebvhLog:
    witnesses = tuple(f"did:key:{multikey_encode(key.public_key)}" for key in (WITNESS_A, WITNESS_B))
    return _created(witness=WitnessConfig(threshold=2, witnesses=witnesses))


def _witness_file(*approvals: tuple[str, SigningKey]) -> bytes:
    records: dict[str, list[dict[str, Any]]] = {}
    for version_id, key in approvals:
        records.setdefault(version_id, []).append(witness_proof(version_id, key, DAY_0))
    return json.dumps([{"versionId": vid, "proof": proofs} for vid, proofs in records.items()]).encode()


def test_a_witnessed_entry_needs_the_threshold_of_distinct_witness_approvals() -> None:
    log = _witnessed()
    version = log.version_id
    enough = _witness_file((version, WITNESS_A), (version, WITNESS_B))
    one_twice = _witness_file((version, WITNESS_A), (version, WITNESS_A))
    with_stranger = _witness_file((version, WITNESS_A), (version, STRANGER))

    resolved = resolve_webvh(log.did, log.to_jsonl(), now=NOW, witness_file=lambda: enough)

    assert resolved.metadata["witness"]["threshold"] == "2"
    for approvals in (one_twice, with_stranger, None):
        with pytest.raises(WebvhError) as caught:
            resolve_webvh(log.did, log.to_jsonl(), now=NOW, witness_file=lambda a=approvals: a)
        assert caught.value.reason is WebvhFailure.WITNESS_THRESHOLD_NOT_MET


def test_a_witness_approving_a_later_version_approves_the_earlier_ones() -> None:
    log = update_log(_witnessed(), signing_key=UPDATE, version_time=_day(1))
    latest = log.version_id

    file = _witness_file((latest, WITNESS_A), (latest, WITNESS_B))

    assert (
        resolve_webvh(log.did, log.to_jsonl(), now=NOW, witness_file=lambda: file).metadata["versionNumber"]
        == 2
    )


def test_an_approval_of_an_earlier_version_does_not_cover_a_later_one() -> None:
    log = _witnessed()
    first = log.version_id
    log = update_log(log, signing_key=UPDATE, version_time=_day(1))
    file = _witness_file((first, WITNESS_A), (first, WITNESS_B))

    with pytest.raises(WebvhError) as latest:
        resolve_webvh(log.did, log.to_jsonl(), now=NOW, witness_file=lambda: file)
    earlier = resolve_webvh(f"{log.did}?versionNumber=1", log.to_jsonl(), now=NOW, witness_file=lambda: file)

    assert latest.value.reason is WebvhFailure.WITNESS_THRESHOLD_NOT_MET
    assert latest.value.entry == 2
    assert earlier.metadata["versionNumber"] == 1


def test_a_new_witness_list_applies_only_after_the_entry_that_sets_it() -> None:
    log = _witnessed()
    first = log.version_id
    only_a = WitnessConfig(threshold=1, witnesses=(f"did:key:{multikey_encode(WITNESS_A.public_key)}",))
    log = update_log(log, signing_key=UPDATE, version_time=_day(1), witness=only_a)
    second = log.version_id
    file_a = _witness_file((first, WITNESS_B), (second, WITNESS_A))
    file_both = _witness_file((second, WITNESS_A), (second, WITNESS_B))

    with pytest.raises(WebvhError) as caught:
        resolve_webvh(log.did, log.to_jsonl(), now=NOW, witness_file=lambda: file_a)

    assert caught.value.reason is WebvhFailure.WITNESS_THRESHOLD_NOT_MET
    assert (
        resolve_webvh(log.did, log.to_jsonl(), now=NOW, witness_file=lambda: file_both).metadata[
            "versionNumber"
        ]
        == 2
    )
