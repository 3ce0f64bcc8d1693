"""Verifier shortcuts stay sound: subgroup checks left to the multiplications, yes/no in one ciphertext."""

from __future__ import annotations

import msgspec
import pytest

from services.governance.crypto import (
    BallotRules,
    Ciphertext,
    DeterministicRandomness,
    PollKey,
    TrusteeKey,
    TrusteeSetup,
    combine_partial_decryptions,
    encrypt_ballot,
    partial_decrypt,
    tally_ballots,
    verify_ballot,
)
from services.governance.crypto.group import FIELD_PRIME, add

ORDER_EIGHT = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")


def with_rules(poll: PollKey, rules: BallotRules) -> PollKey:
    return msgspec.structs.replace(poll, rules=rules)


@pytest.mark.parametrize("part", ["alpha", "beta"])
def test_a_point_with_a_torsion_component_is_rejected_without_a_separate_subgroup_check(
    poll: PollKey, rng: DeterministicRandomness, part: str
) -> None:
    honest = encrypt_ballot(poll, "did:key:zVoter", [0, 1, 0], rng)
    first = honest.choices[0]
    shifted = add(bytes.fromhex(getattr(first, part)), ORDER_EIGHT).hex()
    forged = msgspec.structs.replace(
        honest, choices=(msgspec.structs.replace(first, **{part: shifted}), *honest.choices[1:])
    )
    check = verify_ballot(poll, forged)
    assert not check.valid
    assert "option 0" in check.reason or "ciphertext" in check.reason


@pytest.mark.parametrize("y", [FIELD_PRIME + 1, FIELD_PRIME, 2**255 - 1])
def test_an_encoding_at_or_above_the_field_prime_is_rejected(
    poll: PollKey, rng: DeterministicRandomness, y: int
) -> None:
    # y = p + 1 is a second spelling of the identity: accepted, it would give a ballot two trackers.
    honest = encrypt_ballot(poll, "did:key:zVoter", [1, 0, 0], rng)
    spelled = y.to_bytes(32, "little").hex()
    forged = msgspec.structs.replace(
        honest, choices=(Ciphertext(honest.choices[0].alpha, spelled), *honest.choices[1:])
    )
    assert verify_ballot(poll, forged).reason.startswith("invalid ciphertext")


def test_single_choice_with_an_implicit_last_option_carries_one_ciphertext_fewer_and_counts_every_option(
    poll: PollKey, ceremony: tuple[TrusteeSetup, tuple[TrusteeKey, ...]], rng: DeterministicRandomness
) -> None:
    setup, keys = ceremony
    yes_no = with_rules(poll, BallotRules(options=2, min_total=1, max_total=1, implicit_last=True))
    three = with_rules(poll, BallotRules(options=3, min_total=1, max_total=1, implicit_last=True))
    ballot = encrypt_ballot(yes_no, "did:key:zA", [0, 1], rng)
    assert (len(ballot.choices), ballot.total_proof) == (1, None)
    assert verify_ballot(yes_no, ballot).valid

    votes = [[1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0]]
    ballots = [encrypt_ballot(three, f"did:key:z{i}", v, rng) for i, v in enumerate(votes)]
    assert all(len(b.choices) == 2 and b.total_proof is not None for b in ballots)
    assert all(verify_ballot(three, b).valid for b in ballots)
    tally = tally_ballots(three, ballots)
    partials = [partial_decrypt(tally, key, rng) for key in keys[:3]]
    decrypted = combine_partial_decryptions(setup, tally, partials, 1)
    assert three.rules.full_counts(decrypted.counts, tally.ballots) == (1, 1, 2)

    with pytest.raises(ValueError, match=r"rules"):
        encrypt_ballot(three, "did:key:zB", [1, 1, 0], rng)
    with pytest.raises(ValueError, match=r"implicit_last"):
        BallotRules(options=3, max_total=2, implicit_last=True).check()
