"""The auditor's per-commit checks, run in worker processes: service signature, member statements, proofs.

Kept apart from `audit.py` so that a spawned worker imports only what these checks need.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgspec
import nacl.exceptions
import nacl.signing

from services.governance.audit_statements import did_key_public_key, statement_problem
from services.governance.crypto import EncryptedBallot, PollKey, verify_ballot
from shared.envelope import Commit, EnvelopeError, peek_body

ACTIONS = {
    "governance.settings_configured.v1": ("configure_settings", "by"),
    "governance.poll_created.v1": ("create_poll", "by"),
    "governance.trustee_committed.v1": ("commit_trustee", "did"),
    "governance.share_complained.v1": ("complain_share", "did"),
    "governance.share_revealed.v1": ("reveal_share", "did"),
    "governance.poll_closed.v1": ("close_poll", "by"),
    "governance.poll_extended.v1": ("extend_poll", "by"),
    "governance.partial_decryption_submitted.v1": ("submit_partial_decryption", "by"),
    "governance.outcome_stated.v1": ("state_outcome", "by"),
    "governance.ballot_cast.v1": ("cast_ballot", "cast_by"),
    "governance.delegation_granted.v1": ("delegate", "delegator"),
    "governance.delegation_revoked.v1": ("revoke_delegation", "by"),
}
decode_state = msgspec.msgpack.Decoder(dict[str, Any])

Job = tuple[int, bytes, str, str | None]  # position, envelope bytes, community, poll key (JSON) for a ballot


@lru_cache(maxsize=64)
def _signer_key(did: str) -> bytes:
    # The few service instance keys sign every commit: decode each did:key once per worker.
    return did_key_public_key(did)


@lru_cache(maxsize=64)
def _poll_key(key_json: str) -> PollKey:
    return msgspec.json.decode(key_json, type=PollKey)


def check_job(job: Job) -> tuple[int, list[str]]:
    position, data, community, key_json = job
    try:
        envelope, body = peek_body(data)
        nacl.signing.VerifyKey(_signer_key(body.signer)).verify(envelope.body, envelope.signature)
    except (EnvelopeError, ValueError) as exc:
        return position, [f"unreadable entry: {exc}"]
    except nacl.exceptions.BadSignatureError:
        return position, [
            f"the service's signature does not verify under {body.signer}: the entry was altered"
        ]
    if not isinstance(body, Commit):
        return position, []
    problems: list[str] = []
    for event in body.events:
        try:
            fields = decode_state.decode(event.state)
        except msgspec.DecodeError:
            continue  # reported by the structural pass
        action = ACTIONS.get(event.topic)
        statement = fields.get("statement")
        by_service = event.topic == "governance.poll_closed.v1" and fields.get("reason") != "by_author"
        if action is not None and not (by_service and statement is None):
            name, actor_field = action
            actor = fields.get(actor_field) or ""
            if event.topic == "governance.partial_decryption_submitted.v1":
                actor = (statement or {}).get("actor", "")  # trustees are named by index; the poll maps them
            problem = statement_problem(
                statement,
                action=f"governance.{name}",
                community=community,
                actor=actor,
                at_ns=body.timestamp_ns,
            )
            if problem:
                problems.append(f"{event.topic}: {problem}")
        if event.topic == "governance.ballot_cast.v1" and fields.get("ballot") is not None:
            if key_json is None:
                problems.append("an encrypted ballot in a poll without a key")
                continue
            try:
                ballot = msgspec.convert(fields["ballot"], EncryptedBallot)
            except msgspec.ValidationError as exc:
                problems.append(f"not an encrypted ballot: {exc}")
                continue
            check = verify_ballot(_poll_key(key_json), ballot, fields.get("tracker"))
            if not check.valid:
                problems.append(f"invalid encrypted ballot: {check.reason}")
    return position, problems


def check_jobs(jobs: list[Job]) -> list[tuple[int, list[str]]]:
    return [check_job(job) for job in jobs]


def warm_up() -> None:
    """Nothing: submitted first so that a spawned worker has imported this module before work arrives."""
