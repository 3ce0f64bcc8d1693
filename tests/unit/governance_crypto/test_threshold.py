"""Dealerless t-of-n trustee keys: any t trustees decrypt, fewer cannot, a cheating dealer is named."""

from __future__ import annotations

from itertools import combinations

import pytest

from services.governance.crypto import (
    DealerCommitment,
    DecryptionFailed,
    DeterministicRandomness,
    InvalidSetup,
    SecretShare,
    ShareRejected,
    TrusteeKey,
    TrusteeSetup,
    combine_shares,
    deal,
    election_public_key,
    verification_keys,
    verify_setup,
    verify_share,
)
from services.governance.crypto.elgamal import decryption_factor, discrete_log, encrypt, plaintext_point
from services.governance.crypto.group import IDENTITY, ORDER, add, base_mul, mul, scalar_from_hex, scalar_hex
from services.governance.crypto.threshold import lagrange_at_zero

Ceremony = tuple[TrusteeSetup, tuple[TrusteeKey, ...]]


def _decrypt_with(keys: tuple[TrusteeKey, ...], ciphertext: tuple[bytes, bytes]) -> int:
    weights = lagrange_at_zero([k.trustee for k in keys])
    combined = IDENTITY
    for key in keys:
        factor = decryption_factor(scalar_from_hex(key.secret), ciphertext)
        combined = add(combined, mul(factor, weights[key.trustee]))
    return discrete_log(plaintext_point(ciphertext, combined), 100)


def test_every_subset_of_threshold_trustees_decrypts(
    ceremony: Ceremony, rng: DeterministicRandomness
) -> None:
    setup, keys = ceremony
    ciphertext = encrypt(election_public_key(setup), 42, rng.scalar())
    for subset in combinations(keys, setup.threshold):
        assert _decrypt_with(subset, ciphertext) == 42


def test_fewer_than_threshold_trustees_learn_nothing_useful(
    ceremony: Ceremony, rng: DeterministicRandomness
) -> None:
    setup, keys = ceremony
    ciphertext = encrypt(election_public_key(setup), 42, rng.scalar())
    with pytest.raises(DecryptionFailed):
        _decrypt_with(keys[:2], ciphertext)


def test_public_verification_keys_match_the_trustees_secrets(ceremony: Ceremony) -> None:
    setup, keys = ceremony
    verify_setup(setup)
    public = verification_keys(setup)
    assert {k.trustee: base_mul(scalar_from_hex(k.secret)) for k in keys} == public


def test_the_joint_key_is_the_sum_of_the_dealers_secrets_recombined(ceremony: Ceremony) -> None:
    setup, keys = ceremony
    weights = lagrange_at_zero([1, 3, 5])
    secret = sum(scalar_from_hex(keys[j - 1].secret) * weights[j] for j in (1, 3, 5)) % ORDER
    assert base_mul(secret) == election_public_key(setup)


def test_a_share_that_breaks_its_commitments_names_the_dealer(rng: DeterministicRandomness) -> None:
    commitment, shares = deal("p", 2, 2, 3, rng)
    honest = shares[0]
    verify_share(commitment, honest)
    forged = SecretShare(dealer=2, recipient=1, value=scalar_hex(scalar_from_hex(honest.value) + 1))
    with pytest.raises(ShareRejected) as caught:
        verify_share(commitment, forged)
    assert (caught.value.dealer, caught.value.recipient) == (2, 1)


def test_combining_shares_refuses_a_missing_or_bad_share(rng: DeterministicRandomness) -> None:
    dealings = [deal("p", i, 2, 3, rng) for i in (1, 2, 3)]
    setup = TrusteeSetup(poll_id="p", threshold=2, trustees=3, dealers=tuple(c for c, _ in dealings))
    shares_for_two = [s for _, dealt in dealings for s in dealt if s.recipient == 2]
    combine_shares(setup, 2, shares_for_two)
    with pytest.raises(ShareRejected) as caught:
        combine_shares(setup, 2, [s for s in shares_for_two if s.dealer != 3])
    assert caught.value.dealer == 3
    share_for_three = next(s for s in dealings[0][1] if s.recipient == 3)
    swapped = [SecretShare(1, 2, share_for_three.value), *shares_for_two[1:]]
    with pytest.raises(ShareRejected) as caught:
        combine_shares(setup, 2, swapped)
    assert caught.value.dealer == 1


def test_a_setup_with_a_bad_dealer_record_is_refused_naming_it(ceremony: Ceremony) -> None:
    setup, _ = ceremony
    dealers = list(setup.dealers)
    dealers[1] = DealerCommitment(dealer=2, coefficients=dealers[1].coefficients, proof=dealers[0].proof)
    with pytest.raises(InvalidSetup, match="dealer 2"):
        verify_setup(TrusteeSetup(setup.poll_id, setup.threshold, setup.trustees, tuple(dealers)))
    wrong_degree = DealerCommitment(3, dealers[2].coefficients[:-1], dealers[2].proof)
    with pytest.raises(InvalidSetup, match="dealer 3"):
        verify_setup(
            TrusteeSetup(setup.poll_id, setup.threshold, setup.trustees, (*setup.dealers[:2], wrong_degree))
        )
    with pytest.raises(InvalidSetup):
        verify_setup(TrusteeSetup(setup.poll_id, 6, 5, setup.dealers))
    # A record copied to another poll does not verify: the proofs are bound to the poll id.
    with pytest.raises(InvalidSetup):
        verify_setup(TrusteeSetup("another-poll", setup.threshold, setup.trustees, setup.dealers))


def test_a_dealer_left_out_after_a_complaint_still_leaves_a_working_key(rng: DeterministicRandomness) -> None:
    dealings = [deal("p", i, 2, 3, rng) for i in (1, 2, 3)]
    qualified = TrusteeSetup(poll_id="p", threshold=2, trustees=3, dealers=(dealings[0][0], dealings[2][0]))
    verify_setup(qualified)
    all_shares = [s for _, dealt in dealings for s in dealt]
    keys = tuple(combine_shares(qualified, j, all_shares) for j in (1, 2, 3))
    ciphertext = encrypt(election_public_key(qualified), 7, rng.scalar())
    assert _decrypt_with(keys[1:], ciphertext) == 7
