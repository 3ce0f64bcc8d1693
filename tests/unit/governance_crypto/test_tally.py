"""Tally: ballots add up, t trustees decrypt with proofs, the auditor recomputes and names what is wrong."""

from __future__ import annotations

from itertools import combinations

import msgspec
import pytest

from services.governance.crypto import (
    DecryptionFailed,
    DeterministicRandomness,
    EncryptedBallot,
    PartialDecryption,
    PollKey,
    TrusteeKey,
    TrusteeSetup,
    combine_partial_decryptions,
    encrypt_ballot,
    partial_decrypt,
    run_ceremony_in_one_process,
    tally_ballots,
    verify_tally,
)
from services.governance.crypto.group import base_mul, point_hex

Ceremony = tuple[TrusteeSetup, tuple[TrusteeKey, ...]]
VOTES = [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]]
EXPECTED = (3, 1, 1)


@pytest.fixture(scope="module")
def ballots(poll: PollKey) -> list[EncryptedBallot]:
    rng = DeterministicRandomness(b"ballots")
    return [encrypt_ballot(poll, f"did:key:voter{i}", votes, rng) for i, votes in enumerate(VOTES)]


@pytest.fixture(scope="module")
def partials(poll: PollKey, ceremony: Ceremony, ballots: list[EncryptedBallot]) -> list[PartialDecryption]:
    tally = tally_ballots(poll, ballots)
    rng = DeterministicRandomness(b"partials")
    return [partial_decrypt(tally, key, rng) for key in ceremony[1]]


def _wrong(partial: PartialDecryption) -> PartialDecryption:
    return msgspec.structs.replace(partial, factors=(point_hex(base_mul(99)), *partial.factors[1:]))


def test_any_threshold_subset_of_trustees_decrypts_the_tally(
    poll: PollKey, ceremony: Ceremony, ballots: list[EncryptedBallot], partials: list[PartialDecryption]
) -> None:
    setup, _ = ceremony
    tally = tally_ballots(poll, ballots)
    for subset in combinations(partials, setup.threshold):
        result = combine_partial_decryptions(setup, tally, subset, max_per_option=1)
        assert result.counts == EXPECTED
        assert result.trustees_used == tuple(p.trustee for p in subset)


def test_a_wrong_partial_decryption_is_set_aside_and_its_trustee_named(
    poll: PollKey, ceremony: Ceremony, ballots: list[EncryptedBallot], partials: list[PartialDecryption]
) -> None:
    setup, _ = ceremony
    tally = tally_ballots(poll, ballots)
    cheated = [partials[0], _wrong(partials[1]), partials[2], partials[3]]
    result = combine_partial_decryptions(setup, tally, cheated, max_per_option=1)
    assert result.counts == EXPECTED
    assert 2 not in result.trustees_used
    with pytest.raises(DecryptionFailed, match=r"invalid from trustees \[2\], none from trustees \[4, 5\]"):
        combine_partial_decryptions(setup, tally, [partials[0], _wrong(partials[1]), partials[2]], 1)


def test_the_auditor_recomputes_the_result_from_public_data(
    poll: PollKey, ceremony: Ceremony, ballots: list[EncryptedBallot], partials: list[PartialDecryption]
) -> None:
    setup, _ = ceremony
    claimed = combine_partial_decryptions(setup, tally_ballots(poll, ballots), partials[2:], 1)
    check = verify_tally(poll, setup, ballots, partials, claimed)
    assert check.valid, check.reason
    assert check.counts == EXPECTED


def test_the_auditor_names_a_cheating_trustee_and_a_false_claim(
    poll: PollKey, ceremony: Ceremony, ballots: list[EncryptedBallot], partials: list[PartialDecryption]
) -> None:
    setup, _ = ceremony
    honest = combine_partial_decryptions(setup, tally_ballots(poll, ballots), partials, 1)
    cheated = [_wrong(partials[0]), *partials[1:]]
    check = verify_tally(poll, setup, ballots, cheated, honest)
    assert not check.valid
    assert check.cheating_trustees == (1,)
    assert check.counts == EXPECTED
    false_claim = msgspec.structs.replace(honest, counts=(2, 2, 1))
    check = verify_tally(poll, setup, ballots, partials, false_claim)
    assert not check.valid
    assert "differs from recomputed [3, 1, 1]" in check.reason


def test_the_auditor_reports_invalid_and_duplicate_ballots_by_position(
    poll: PollKey, ceremony: Ceremony, ballots: list[EncryptedBallot], partials: list[PartialDecryption]
) -> None:
    setup, keys = ceremony
    board = [*ballots, msgspec.structs.replace(ballots[1], voter="did:key:intruder"), ballots[4]]
    rng = DeterministicRandomness(b"audit")
    counted = [*ballots, ballots[4]]
    tally = tally_ballots(poll, counted)
    fresh = [partial_decrypt(tally, key, rng) for key in keys]
    claimed = combine_partial_decryptions(setup, tally, fresh, 1)
    check = verify_tally(poll, setup, board, fresh, claimed)
    assert check.rejected_ballots == (5,)
    assert "a voter has more than one counted ballot" in check.reason
    assert not check.valid


def test_a_poll_key_that_is_not_the_trustees_joint_key_is_refused(
    poll: PollKey, ceremony: Ceremony, ballots: list[EncryptedBallot], partials: list[PartialDecryption]
) -> None:
    setup, _ = ceremony
    claimed = combine_partial_decryptions(setup, tally_ballots(poll, ballots), partials, 1)
    other_setup, _ = run_ceremony_in_one_process(poll.poll_id, 2, 3, DeterministicRandomness(b"other"))
    check = verify_tally(poll, other_setup, ballots, partials, claimed)
    assert not check.valid
    assert check.reason == "the poll key is not the trustees' joint key"


def test_an_empty_poll_decrypts_to_zero(
    poll: PollKey, ceremony: Ceremony, rng: DeterministicRandomness
) -> None:
    setup, keys = ceremony
    tally = tally_ballots(poll, [])
    partials = [partial_decrypt(tally, key, rng) for key in keys[:3]]
    result = combine_partial_decryptions(setup, tally, partials, 1)
    assert result.counts == (0, 0, 0)
    assert verify_tally(poll, setup, [], partials, result).valid
