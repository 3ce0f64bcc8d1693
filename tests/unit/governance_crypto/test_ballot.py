"""Encrypted ballots: honest ones verify; a vote over the rules, tampering or a replay is rejected."""

from __future__ import annotations

import pickle

import msgspec
import pytest

from services.governance.crypto import (
    BallotRules,
    Ciphertext,
    DeterministicRandomness,
    EncryptedBallot,
    PollKey,
    ballot_tracker,
    canonical_bytes,
    decode_ballot,
    encrypt_ballot,
    short_tracker,
    verify_ballot,
    verify_ballots,
    verify_ballots_in_parallel,
)
from services.governance.crypto.ballot import _choice_statement, _total_statement
from services.governance.crypto.elgamal import add_ciphertexts, encode_ciphertext, encrypt
from services.governance.crypto.group import ORDER, point_from_hex
from services.governance.crypto.proofs import prove_range

VOTER = "did:key:z6MkvoterA"


def test_an_honest_single_choice_ballot_verifies_and_has_a_stable_tracker(
    poll: PollKey, rng: DeterministicRandomness
) -> None:
    ballot = encrypt_ballot(poll, VOTER, [0, 1, 0], rng)
    check = verify_ballot(poll, ballot, tracker=ballot_tracker(ballot))
    assert check.valid, check.reason
    assert check.tracker == ballot_tracker(decode_ballot(canonical_bytes(ballot)))
    assert len(check.tracker) == 43
    assert short_tracker(check.tracker) == "-".join(
        [check.tracker[:4], check.tracker[4:8], check.tracker[8:12]]
    )


@pytest.mark.parametrize(
    ("rules", "votes"),
    [
        (BallotRules(options=4, max_total=2), [1, 0, 1, 0]),
        (BallotRules(options=4, max_total=2), [0, 0, 0, 0]),
        (BallotRules(options=3), [1, 1, 1]),
        (BallotRules(options=3, max_per_option=5), [5, 0, 3]),
        (BallotRules(options=2, max_per_option=3, min_total=2, max_total=4), [1, 3]),
    ],
)
def test_k_of_n_approval_and_score_ballots_verify(
    poll: PollKey, rules: BallotRules, votes: list[int], rng: DeterministicRandomness
) -> None:
    custom = PollKey(poll_id=poll.poll_id, public_key=poll.public_key, rules=rules)
    assert verify_ballot(custom, encrypt_ballot(custom, VOTER, votes, rng)).valid


@pytest.mark.parametrize("votes", [[1, 1, 0], [0, 0, 0], [2, 0, 0], [0, 1]])
def test_votes_that_break_the_rules_cannot_be_encrypted(
    poll: PollKey, votes: list[int], rng: DeterministicRandomness
) -> None:
    with pytest.raises(ValueError, match="votes"):
        encrypt_ballot(poll, VOTER, votes, rng)


def _forge_two_choices(poll: PollKey, rng: DeterministicRandomness) -> EncryptedBallot:
    """A voter who picks two options of a single-choice poll, with the best proofs she can make."""
    public_key = point_from_hex(poll.public_key)
    randomness = [rng.scalar() for _ in range(3)]
    raw = [encrypt(public_key, v, r) for v, r in zip([1, 1, 0], randomness, strict=True)]
    proofs = tuple(
        prove_range(public_key, c, r, v, [0, 1], _choice_statement(poll.poll_id, VOTER, i), rng)
        for i, (c, r, v) in enumerate(zip(raw, randomness, [1, 1, 0], strict=True))
    )
    total = add_ciphertexts(add_ciphertexts(raw[0], raw[1]), raw[2])
    claimed_one = prove_range(
        public_key, total, sum(randomness) % ORDER, 1, [1], _total_statement(poll.poll_id, VOTER, raw), rng
    )
    return EncryptedBallot(
        poll_id=poll.poll_id,
        voter=VOTER,
        choices=tuple(encode_ciphertext(c) for c in raw),
        choice_proofs=proofs,
        total_proof=claimed_one,
    )


def test_a_ballot_summing_over_the_maximum_is_rejected(poll: PollKey, rng: DeterministicRandomness) -> None:
    check = verify_ballot(poll, _forge_two_choices(poll, rng))
    assert not check.valid
    assert check.reason == "invalid overall proof"


def test_a_ballot_encrypting_two_for_one_option_is_rejected(
    poll: PollKey, rng: DeterministicRandomness
) -> None:
    honest = encrypt_ballot(poll, VOTER, [1, 0, 0], rng)
    public_key = point_from_hex(poll.public_key)
    two = encode_ciphertext(encrypt(public_key, 2, rng.scalar()))
    forged = msgspec.structs.replace(honest, choices=(two, *honest.choices[1:]))
    assert verify_ballot(poll, forged).reason == "invalid proof for option 0"


def test_a_ballot_copied_under_another_voter_or_poll_is_rejected(
    poll: PollKey, rng: DeterministicRandomness
) -> None:
    honest = encrypt_ballot(poll, VOTER, [0, 0, 1], rng)
    assert not verify_ballot(poll, msgspec.structs.replace(honest, voter="did:key:z6MkvoterB")).valid
    other_poll = msgspec.structs.replace(poll, poll_id="acme.poll.p2")
    assert not verify_ballot(other_poll, msgspec.structs.replace(honest, poll_id="acme.poll.p2")).valid
    assert verify_ballot(poll, honest).valid


def test_mutated_proofs_ciphertexts_and_trackers_are_rejected(
    poll: PollKey, rng: DeterministicRandomness
) -> None:
    honest = encrypt_ballot(poll, VOTER, [0, 1, 0], rng)
    other = encrypt_ballot(poll, VOTER, [0, 1, 0], rng)
    swapped_choice = msgspec.structs.replace(honest, choices=(other.choices[0], *honest.choices[1:]))
    swapped_proof = msgspec.structs.replace(
        honest, choice_proofs=(other.choice_proofs[0], *honest.choice_proofs[1:])
    )
    reordered = msgspec.structs.replace(
        honest,
        choices=(honest.choices[1], honest.choices[0], honest.choices[2]),
        choice_proofs=(honest.choice_proofs[1], honest.choice_proofs[0], honest.choice_proofs[2]),
    )
    missing_total = msgspec.structs.replace(honest, total_proof=None)
    for forged in (swapped_choice, swapped_proof, reordered, missing_total):
        assert not verify_ballot(poll, forged).valid
    assert (
        verify_ballot(poll, honest, tracker=ballot_tracker(other)).reason
        == "tracker does not match the ballot"
    )


def test_a_small_order_point_in_a_ballot_is_rejected(poll: PollKey, rng: DeterministicRandomness) -> None:
    honest = encrypt_ballot(poll, VOTER, [0, 1, 0], rng)
    order_two = "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
    forged = msgspec.structs.replace(
        honest, choices=(Ciphertext(alpha=order_two, beta=honest.choices[0].beta), *honest.choices[1:])
    )
    assert verify_ballot(poll, forged).reason.startswith("invalid ciphertext")


def test_a_second_spelling_of_the_same_ballot_is_rejected(
    poll: PollKey, rng: DeterministicRandomness
) -> None:
    honest = encrypt_ballot(poll, VOTER, [0, 1, 0], rng)
    first = honest.choices[0]
    upper = msgspec.structs.replace(
        honest, choices=(Ciphertext(first.alpha.upper(), first.beta), *honest.choices[1:])
    )
    assert not verify_ballot(poll, upper).valid


def test_a_ballot_round_trips_through_json_and_pickling(poll: PollKey, rng: DeterministicRandomness) -> None:
    ballot = encrypt_ballot(poll, VOTER, [1, 0, 0], rng)
    assert decode_ballot(canonical_bytes(ballot)) == ballot
    assert pickle.loads(pickle.dumps(ballot)) == ballot
    with pytest.raises(msgspec.ValidationError):
        decode_ballot(canonical_bytes(ballot).replace(b'"voter":', b'"extra":1,"voter":'))


def test_parallel_verification_gives_the_serial_results_in_order(
    poll: PollKey, rng: DeterministicRandomness
) -> None:
    ballots = [encrypt_ballot(poll, f"did:key:v{i}", [0, 0, 1], rng) for i in range(6)]
    ballots[3] = msgspec.structs.replace(ballots[3], voter="did:key:someone-else")
    serial = verify_ballots(poll, ballots)
    parallel = verify_ballots_in_parallel(poll, ballots, workers=2, chunk=2)
    assert parallel == serial
    assert [c.valid for c in serial] == [True, True, True, False, True, True]


def test_the_same_seed_gives_the_same_ballot_and_tracker(poll: PollKey) -> None:
    def cast(seed: bytes) -> str:
        return ballot_tracker(encrypt_ballot(poll, VOTER, [0, 1, 0], DeterministicRandomness(seed)))

    assert cast(b"seed") == cast(b"seed")
    assert cast(b"seed") != cast(b"other seed")
