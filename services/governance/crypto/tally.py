"""Homomorphic tally, trustees' partial decryptions with proofs, and the auditor's recomputation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from .ballot import EncryptedBallot, PollKey, verify_ballots_in_parallel
from .elgamal import (
    ZERO,
    Ciphertext,
    RawCiphertext,
    add_ciphertexts,
    decode_ciphertext,
    decryption_factor,
    discrete_log,
    encode_ciphertext,
    plaintext_point,
)
from .errors import BallotCryptoError, DecryptionFailed
from .group import IDENTITY, add, integer, mul, point_from_hex, point_hex, scalar_from_hex, text
from .proofs import Proof, prove_decryption, verify_decryption
from .randomness import Randomness
from .threshold import (
    TrusteeKey,
    TrusteeSetup,
    election_public_key,
    lagrange_at_zero,
    verification_keys,
    verify_setup,
)


class EncryptedTally(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The product of every counted ballot's ciphertexts, option by option."""

    poll_id: str
    ballots: int
    choices: tuple[Ciphertext, ...]


class PartialDecryption(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One trustee's factors alpha^x_j for each option of the tally, each with a Chaum-Pedersen proof."""

    poll_id: str
    trustee: int
    factors: tuple[str, ...]
    proofs: tuple[Proof, ...]


class TallyResult(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Decrypted totals per option and the trustees whose partial decryptions were used."""

    poll_id: str
    ballots: int
    counts: tuple[int, ...]
    trustees_used: tuple[int, ...]


class TallyCheck(msgspec.Struct, frozen=True):
    """An auditor's verdict: what was recomputed and who or what failed."""

    valid: bool
    counts: tuple[int, ...] | None
    rejected_ballots: tuple[int, ...] = ()
    cheating_trustees: tuple[int, ...] = ()
    reason: str = ""


def tally_ballots(poll: PollKey, ballots: Sequence[EncryptedBallot]) -> EncryptedTally:
    """Multiply the ciphertexts of `ballots` (which must already be verified) option by option."""
    return _tally(poll, ballots, decode_ciphertext)


def tally_verified_ballots(poll: PollKey, ballots: Sequence[EncryptedBallot]) -> EncryptedTally:
    """`tally_ballots` for ballots that `verify_ballot` has accepted (in any process): their points were
    checked by the proofs' multiplications, so they are added up without checking them again."""
    return _tally(poll, ballots, _already_validated)


def _tally(
    poll: PollKey, ballots: Sequence[EncryptedBallot], decode: Callable[[Ciphertext], RawCiphertext]
) -> EncryptedTally:
    totals = [ZERO] * poll.rules.encrypted_options
    for ballot in ballots:
        for option, ciphertext in enumerate(ballot.choices):
            totals[option] = add_ciphertexts(totals[option], decode(ciphertext))
    return EncryptedTally(
        poll_id=poll.poll_id, ballots=len(ballots), choices=tuple(encode_ciphertext(c) for c in totals)
    )


def _already_validated(ciphertext: Ciphertext) -> RawCiphertext:
    # Only for ballots that verify_ballot has just accepted: it validated these very points.
    return bytes.fromhex(ciphertext.alpha), bytes.fromhex(ciphertext.beta)


def _raw(ciphertext: Ciphertext) -> RawCiphertext:
    # Tally totals may be the identity (an empty poll), so they are decoded without the point check.
    if ciphertext.alpha == IDENTITY.hex() and ciphertext.beta == IDENTITY.hex():
        return ZERO
    return decode_ciphertext(ciphertext)


def _statement(poll_id: str, trustee: int, option: int) -> list[bytes]:
    return [text("partial-decryption"), text(poll_id), integer(trustee), integer(option)]


def partial_decrypt(tally: EncryptedTally, key: TrusteeKey, rng: Randomness) -> PartialDecryption:
    """Trustee `key.trustee`'s share of the decryption of `tally`, with proofs."""
    secret = scalar_from_hex(key.secret)
    factors: list[str] = []
    proofs: list[Proof] = []
    for option, ciphertext in enumerate(tally.choices):
        alpha = _raw(ciphertext)[0]
        factor = decryption_factor(secret, (alpha, IDENTITY))
        factors.append(point_hex(factor))
        proofs.append(
            prove_decryption(secret, alpha, factor, _statement(tally.poll_id, key.trustee, option), rng)
        )
    return PartialDecryption(
        poll_id=tally.poll_id, trustee=key.trustee, factors=tuple(factors), proofs=tuple(proofs)
    )


def check_partial_decryption(
    tally: EncryptedTally, verification_key: bytes, partial: PartialDecryption
) -> bool:
    """True when every factor of `partial` is proven to come from the trustee's share."""
    if partial.poll_id != tally.poll_id or len(partial.factors) != len(tally.choices):
        return False
    if len(partial.proofs) != len(tally.choices):
        return False
    try:
        factors = [_factor(f) for f in partial.factors]
    except BallotCryptoError:
        return False
    for option, (ciphertext, factor, proof) in enumerate(
        zip(tally.choices, factors, partial.proofs, strict=True)
    ):
        alpha = _raw(ciphertext)[0]
        statement = _statement(tally.poll_id, partial.trustee, option)
        if alpha == IDENTITY:
            if factor != IDENTITY:
                return False
        elif not verify_decryption(verification_key, alpha, factor, proof, statement):
            return False
    return True


def _factor(encoded: str) -> bytes:
    return IDENTITY if encoded == IDENTITY.hex() else point_from_hex(encoded)


def _sort_partials(
    setup: TrusteeSetup, tally: EncryptedTally, partials: Sequence[PartialDecryption]
) -> tuple[dict[int, PartialDecryption], list[int]]:
    keys = verification_keys(setup)
    valid: dict[int, PartialDecryption] = {}
    cheating: list[int] = []
    for partial in partials:
        key = keys.get(partial.trustee)
        if key is None or not check_partial_decryption(tally, key, partial):
            cheating.append(partial.trustee)
        elif partial.trustee not in valid:
            valid[partial.trustee] = partial
    return valid, sorted(set(cheating))


def _decrypt_with(
    setup: TrusteeSetup,
    tally: EncryptedTally,
    valid: dict[int, PartialDecryption],
    cheating: list[int],
    max_per_option: int,
) -> TallyResult:
    if len(valid) < setup.threshold:
        missing = sorted(set(range(1, setup.trustees + 1)) - set(valid) - set(cheating))
        raise DecryptionFailed(
            f"{len(valid)} valid partial decryptions, {setup.threshold} needed; "
            f"invalid from trustees {cheating}, none from trustees {missing}"
        )
    chosen = sorted(valid)[: setup.threshold]
    weights = lagrange_at_zero(chosen)
    bound = tally.ballots * max_per_option
    counts = []
    for option, ciphertext in enumerate(tally.choices):
        combined = IDENTITY
        for trustee in chosen:
            combined = add(combined, mul(_factor(valid[trustee].factors[option]), weights[trustee]))
        counts.append(discrete_log(plaintext_point(_raw(ciphertext), combined), bound))
    return TallyResult(
        poll_id=tally.poll_id, ballots=tally.ballots, counts=tuple(counts), trustees_used=tuple(chosen)
    )


def combine_partial_decryptions(
    setup: TrusteeSetup, tally: EncryptedTally, partials: Sequence[PartialDecryption], max_per_option: int
) -> TallyResult:
    """Check every partial decryption, then decrypt with `threshold` valid ones.

    Invalid partial decryptions are set aside. Raises DecryptionFailed, naming the trustees whose
    partial decryptions are invalid or missing, when fewer than `threshold` valid ones remain.
    """
    valid, cheating = _sort_partials(setup, tally, partials)
    return _decrypt_with(setup, tally, valid, cheating, max_per_option)


def verify_tally(
    poll: PollKey,
    setup: TrusteeSetup,
    ballots: Sequence[EncryptedBallot],
    partials: Sequence[PartialDecryption],
    claimed: TallyResult,
    workers: int = 1,
) -> TallyCheck:
    """Recompute a poll's result from public data only and compare it with the claimed one.

    Checks the ceremony record and that it yields the poll's key, every ballot (by position), the
    homomorphic tally, every partial decryption (naming cheating trustees) and the decrypted counts.
    """
    try:
        verify_setup(setup)
    except BallotCryptoError as error:
        return TallyCheck(valid=False, counts=None, reason=f"trustee setup: {error}")
    if setup.poll_id != poll.poll_id or point_hex(election_public_key(setup)) != poll.public_key:
        return TallyCheck(valid=False, counts=None, reason="the poll key is not the trustees' joint key")
    checks = verify_ballots_in_parallel(poll, ballots, workers)
    rejected = tuple(i for i, check in enumerate(checks) if not check.valid)
    counted = [ballot for ballot, check in zip(ballots, checks, strict=True) if check.valid]
    tally = _tally(poll, counted, _already_validated)
    valid, cheating = _sort_partials(setup, tally, partials)
    try:
        result = _decrypt_with(setup, tally, valid, cheating, poll.rules.max_per_option)
    except DecryptionFailed as error:
        return TallyCheck(
            valid=False,
            counts=None,
            rejected_ballots=rejected,
            cheating_trustees=tuple(cheating),
            reason=str(error),
        )
    problems = []
    if rejected:
        problems.append(f"invalid ballots at positions {list(rejected)}")
    voters = [ballot.voter for ballot in counted]
    if len(set(voters)) != len(voters):
        problems.append("a voter has more than one counted ballot")
    if cheating:
        problems.append(f"invalid partial decryptions from trustees {list(cheating)}")
    if claimed.poll_id != poll.poll_id or claimed.ballots != len(counted) or claimed.counts != result.counts:
        problems.append(
            f"claimed result {list(claimed.counts)} differs from recomputed {list(result.counts)}"
        )
    return TallyCheck(
        valid=not problems,
        counts=result.counts,
        rejected_ballots=rejected,
        cheating_trustees=tuple(cheating),
        reason="; ".join(problems),
    )
