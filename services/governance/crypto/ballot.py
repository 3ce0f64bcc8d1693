"""Encrypted ballots: one ciphertext per option, a validity proof per option, an overall proof, a tracker."""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import msgspec

from .elgamal import (
    ZERO,
    Ciphertext,
    RawCiphertext,
    add_ciphertexts,
    encode_ciphertext,
    encrypt,
)
from .errors import BallotCryptoError
from .group import ORDER, canonical_point_from_hex, integer, text, trusted_point_from_hex
from .proofs import RangeProof, prove_range, verify_range
from .randomness import Randomness


class BallotRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a valid ballot is: each option gets 0..max_per_option, the total lies in [min_total, max_total].

    Single choice: max_per_option=1, min_total=max_total=1. k of n: max_per_option=1, max_total=k.
    Approval: max_per_option=1, max_total=None. Score 0-5: max_per_option=5, max_total=None.
    `max_total=None` means no overall proof: the per-option proofs already bound the total.

    `implicit_last` (single choice only): the ballot encrypts the first n-1 options, each 0 or 1 with a
    total of 0 or 1, and the last option is what is left (its count is ballots minus the others). That
    is one ciphertext and one proof fewer per ballot, and no overall proof at all for a yes/no choice.
    """

    options: int
    max_per_option: int = 1
    min_total: int = 0
    max_total: int | None = None
    implicit_last: bool = False

    def check(self) -> None:
        """Raise ValueError when the rules themselves make no sense."""
        if self.options < 1 or self.max_per_option < 1:
            raise ValueError("a poll needs at least one option and a positive maximum per option")
        if self.max_total is not None and not 0 <= self.min_total <= self.max_total:
            raise ValueError("need 0 <= min_total <= max_total")
        single = self.max_per_option == 1 and self.min_total == 1 and self.max_total == 1
        if self.implicit_last and not (single and self.options >= 2):
            raise ValueError("implicit_last is for single choice among two or more options")

    @property
    def encrypted_options(self) -> int:
        """How many ciphertexts a ballot carries."""
        return self.options - 1 if self.implicit_last else self.options

    def full_counts(self, counts: Sequence[int], ballots: int) -> tuple[int, ...]:
        """The count of every option from the decrypted counts of the encrypted ones."""
        if not self.implicit_last:
            return tuple(counts)
        return (*counts, ballots - sum(counts))


class PollKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The public parameters a ballot is made and checked against."""

    poll_id: str
    public_key: str
    rules: BallotRules


class EncryptedBallot(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A voter's encrypted choices with their proofs of validity, bound to the poll and to the voter."""

    poll_id: str
    voter: str
    choices: tuple[Ciphertext, ...]
    choice_proofs: tuple[RangeProof, ...]
    total_proof: RangeProof | None = None


class BallotCheck(msgspec.Struct, frozen=True):
    """The outcome of checking one ballot; `reason` is empty when it is valid."""

    tracker: str
    valid: bool
    reason: str = ""


def _choice_statement(poll_id: str, voter: str, option: int) -> list[bytes]:
    # Binding the voter stops a ballot being copied under another member's name (a replay that leaks votes).
    return [text("choice"), text(poll_id), text(voter), integer(option)]


def _total_statement(poll_id: str, voter: str, choices: Sequence[RawCiphertext]) -> list[bytes]:
    return [text("total"), text(poll_id), text(voter), *(part for c in choices for part in c)]


def _total_range(rules: BallotRules) -> list[int] | None:
    if rules.implicit_last:
        return None if rules.options == 2 else [0, 1]
    if rules.max_total is None:
        return None
    return list(range(rules.min_total, rules.max_total + 1))


def encrypt_ballot(poll: PollKey, voter: str, votes: Sequence[int], rng: Randomness) -> EncryptedBallot:
    """Encrypt `votes` (one small integer per option) with all proofs.

    Raises ValueError for votes the rules forbid: no honest proof exists for them.
    """
    rules = poll.rules
    rules.check()
    if len(votes) != rules.options:
        raise ValueError(f"expected {rules.options} votes, got {len(votes)}")
    allowed = list(range(rules.max_per_option + 1))
    total_range = _total_range(rules)
    if any(v not in allowed for v in votes) or (total_range is not None and sum(votes) not in total_range):
        raise ValueError("the votes break the poll's rules")
    public_key = trusted_point_from_hex(poll.public_key)
    raw: list[RawCiphertext] = []
    proofs: list[RangeProof] = []
    randomness_total = 0
    encrypted = list(votes[: rules.encrypted_options])
    for option, vote in enumerate(encrypted):
        r = rng.scalar()
        randomness_total = (randomness_total + r) % ORDER
        ciphertext = encrypt(public_key, vote, r)
        raw.append(ciphertext)
        statement = _choice_statement(poll.poll_id, voter, option)
        proofs.append(prove_range(public_key, ciphertext, r, vote, allowed, statement, rng))
    total_proof = None
    if total_range is not None:
        total = _sum(raw)
        statement = _total_statement(poll.poll_id, voter, raw)
        total_proof = prove_range(
            public_key, total, randomness_total, sum(encrypted), total_range, statement, rng
        )
    return EncryptedBallot(
        poll_id=poll.poll_id,
        voter=voter,
        choices=tuple(encode_ciphertext(c) for c in raw),
        choice_proofs=tuple(proofs),
        total_proof=total_proof,
    )


def _sum(ciphertexts: Sequence[RawCiphertext]) -> RawCiphertext:
    total = ZERO
    for ciphertext in ciphertexts:
        total = add_ciphertexts(total, ciphertext)
    return total


def canonical_bytes(ballot: EncryptedBallot) -> bytes:
    """The one encoding of a ballot that the tracker hashes (fields in declaration order, no spaces)."""
    return msgspec.json.encode(ballot)


def decode_ballot(data: bytes) -> EncryptedBallot:
    """Read a ballot from JSON (structure only; `verify_ballot` checks the cryptography)."""
    return msgspec.json.decode(data, type=EncryptedBallot)


def ballot_tracker(ballot: EncryptedBallot) -> str:
    """SHA-256 of the canonical ballot in unpadded base64url: what the voter looks for on the board."""
    digest = hashlib.sha256(canonical_bytes(ballot)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def short_tracker(tracker: str) -> str:
    """The first 12 characters in groups of four, for a human to compare at a glance."""
    return "-".join(tracker[i : i + 4] for i in range(0, 12, 4))


def verify_ballot(poll: PollKey, ballot: EncryptedBallot, tracker: str | None = None) -> BallotCheck:
    """Recompute every check of one ballot from public data; a given `tracker` must match too."""
    computed = ballot_tracker(ballot)
    reason = _ballot_problem(poll, ballot, computed, tracker)
    return BallotCheck(tracker=computed, valid=not reason, reason=reason)


def _ballot_problem(poll: PollKey, ballot: EncryptedBallot, computed: str, tracker: str | None) -> str:
    rules = poll.rules
    if tracker is not None and tracker != computed:
        return "tracker does not match the ballot"
    if ballot.poll_id != poll.poll_id:
        return "ballot is for another poll"
    expected = rules.encrypted_options
    if len(ballot.choices) != expected or len(ballot.choice_proofs) != expected:
        return "wrong number of choices or proofs"
    try:
        public_key = trusted_point_from_hex(poll.public_key)
        # Only the encoding is checked here: each point is then multiplied by a non-zero challenge
        # (the challenges add up to a non-zero hash), and that multiplication refuses anything outside
        # the prime-order subgroup, so a separate subgroup check would do the same work twice.
        raw = [(canonical_point_from_hex(c.alpha), canonical_point_from_hex(c.beta)) for c in ballot.choices]
    except BallotCryptoError as error:
        return f"invalid ciphertext: {error}"
    allowed = list(range(rules.max_per_option + 1))
    for option, (ciphertext, proof) in enumerate(zip(raw, ballot.choice_proofs, strict=True)):
        statement = _choice_statement(poll.poll_id, ballot.voter, option)
        try:
            valid = verify_range(public_key, ciphertext, allowed, proof, statement)
        except BallotCryptoError as error:
            return f"invalid ciphertext for option {option}: {error}"
        if not valid:
            return f"invalid proof for option {option}"
    total_range = _total_range(rules)
    if total_range is None:
        return "" if ballot.total_proof is None else "unexpected overall proof"
    if ballot.total_proof is None:
        return "missing overall proof"
    if len(ballot.total_proof) != len(total_range):
        return "invalid overall proof"
    statement = _total_statement(poll.poll_id, ballot.voter, raw)
    if not verify_range(public_key, _sum(raw), total_range, ballot.total_proof, statement):
        return "invalid overall proof"
    return ""


def verify_ballots(poll: PollKey, ballots: Sequence[EncryptedBallot]) -> list[BallotCheck]:
    """Check many ballots in this process; a pure function, so chunks of it can run in other processes."""
    return [verify_ballot(poll, ballot) for ballot in ballots]


def verify_ballots_in_parallel(
    poll: PollKey, ballots: Sequence[EncryptedBallot], workers: int, chunk: int = 64
) -> list[BallotCheck]:
    """`verify_ballots` spread over `workers` processes, results in the order of `ballots`.

    Workers are spawned rather than forked, so a caller that already runs threads is safe.
    """
    if workers <= 1 or len(ballots) <= chunk:
        return verify_ballots(poll, ballots)
    chunks = [list(ballots[i : i + chunk]) for i in range(0, len(ballots), chunk)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [check for part in pool.map(partial(verify_ballots, poll), chunks) for check in part]
