"""Dealerless t-of-n trustee keys: joint Feldman secret sharing, verifiable by anyone from public data.

Each trustee deals a random polynomial of degree t-1, publishes Feldman commitments to its
coefficients with a proof of knowledge of the constant term, and hands every other trustee a share.
The election key is the product of the constant-term commitments; no one ever holds its secret.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from .errors import InvalidScalar, InvalidSetup, ShareRejected
from .group import (
    IDENTITY,
    ORDER,
    add,
    base_mul,
    integer,
    mul,
    point_from_hex,
    point_hex,
    scalar_from_hex,
    scalar_hex,
    text,
)
from .proofs import Proof, prove_knowledge, verify_knowledge
from .randomness import Randomness


class DealerCommitment(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a trustee publishes when dealing: g^(a_k) for each coefficient, and a proof it knows a_0."""

    dealer: int
    coefficients: tuple[str, ...]
    proof: Proof


class TrusteeSetup(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The public record of the key ceremony of one poll.

    `dealers` holds the qualified dealers only: one named by a ShareRejected complaint is left out.
    """

    poll_id: str
    threshold: int
    trustees: int
    dealers: tuple[DealerCommitment, ...]


class SecretShare(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """f_dealer(recipient), sent privately (over an authenticated, encrypted channel) to the recipient."""

    dealer: int
    recipient: int
    value: str


class TrusteeKey(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A trustee's private decryption share x_j = sum of the shares it received. Never published."""

    poll_id: str
    trustee: int
    secret: str


def _dealer_statement(poll_id: str, dealer: int, threshold: int, trustees: int) -> list[bytes]:
    return [text("dealer"), text(poll_id), integer(dealer), integer(threshold), integer(trustees)]


def _check_parameters(threshold: int, trustees: int) -> None:
    if not 1 <= threshold <= trustees:
        raise InvalidSetup(f"need 1 <= threshold <= trustees, got {threshold} of {trustees}")


def deal(
    poll_id: str,
    dealer: int,
    threshold: int,
    trustees: int,
    rng: Randomness,
    *,
    coefficients: Sequence[int] | None = None,
) -> tuple[DealerCommitment, tuple[SecretShare, ...]]:
    """One trustee's dealing: its public commitment and one secret share per trustee (itself included).

    The polynomial is random unless its `coefficients` are given (a trustee's derived ones: ceremony.py).
    """
    _check_parameters(threshold, trustees)
    if not 1 <= dealer <= trustees:
        raise InvalidSetup(f"dealer {dealer} is not one of trustees 1..{trustees}")
    if coefficients is None:
        coefficients = [rng.scalar() for _ in range(threshold)]
    elif len(coefficients) != threshold or not all(0 < a < ORDER for a in coefficients):
        raise InvalidSetup(f"dealer {dealer} needs {threshold} coefficients in [1, L-1]")
    statement = _dealer_statement(poll_id, dealer, threshold, trustees)
    commitment = DealerCommitment(
        dealer=dealer,
        coefficients=tuple(point_hex(base_mul(a)) for a in coefficients),
        proof=prove_knowledge(coefficients[0], statement, rng),
    )
    shares = tuple(
        SecretShare(dealer=dealer, recipient=j, value=scalar_hex(evaluate(coefficients, j)))
        for j in range(1, trustees + 1)
    )
    return commitment, shares


def evaluate(coefficients: Sequence[int], at: int) -> int:
    """f(at) for the polynomial with these coefficients (constant first), mod L."""
    value = 0
    for coefficient in reversed(coefficients):
        value = (value * at + coefficient) % ORDER
    return value


def _commitment_at(points: Sequence[bytes], at: int) -> bytes:
    # g^f(at) computed from the commitments only: prod_k C_k^(at^k).
    result = IDENTITY
    power = 1
    for point in points:
        result = add(result, mul(point, power))
        power = power * at % ORDER
    return result


def verify_setup(setup: TrusteeSetup) -> None:
    """Check the public ceremony record; raises InvalidSetup naming the first faulty dealer."""
    _check_parameters(setup.threshold, setup.trustees)
    if not setup.dealers:
        raise InvalidSetup("no qualified dealer")
    seen = [commitment.dealer for commitment in setup.dealers]
    if seen != sorted(set(seen)) or not all(1 <= d <= setup.trustees for d in seen):
        raise InvalidSetup("dealers must be distinct trustees 1..n in increasing order")
    for commitment in setup.dealers:
        verify_dealer(setup.poll_id, setup.threshold, setup.trustees, commitment)


def verify_dealer(poll_id: str, threshold: int, trustees: int, commitment: DealerCommitment) -> None:
    """Check one dealer's commitments and proof of knowledge; raises InvalidSetup naming it."""
    if len(commitment.coefficients) != threshold:
        raise InvalidSetup(f"dealer {commitment.dealer} committed to a polynomial of the wrong degree")
    points = [point_from_hex(c) for c in commitment.coefficients]
    statement = _dealer_statement(poll_id, commitment.dealer, threshold, trustees)
    if not verify_knowledge(points[0], commitment.proof, statement):
        raise InvalidSetup(f"dealer {commitment.dealer} gave no valid proof of knowledge of its secret")


def verify_share(commitment: DealerCommitment, share: SecretShare) -> None:
    """A recipient's check of the share it received; raises ShareRejected naming the dealer."""
    points = [point_from_hex(c) for c in commitment.coefficients]
    try:
        value = scalar_from_hex(share.value)
    except InvalidScalar as error:
        raise ShareRejected(commitment.dealer, share.recipient) from error
    if share.dealer != commitment.dealer or base_mul(value) != _commitment_at(points, share.recipient):
        raise ShareRejected(commitment.dealer, share.recipient)


def combine_shares(setup: TrusteeSetup, recipient: int, shares: Sequence[SecretShare]) -> TrusteeKey:
    """Trustee `recipient`'s key from the shares of every qualified dealer, each one checked first."""
    by_dealer = {share.dealer: share for share in shares if share.recipient == recipient}
    secret = 0
    for commitment in setup.dealers:
        share = by_dealer.get(commitment.dealer)
        if share is None:
            raise ShareRejected(commitment.dealer, recipient)
        verify_share(commitment, share)
        secret = (secret + scalar_from_hex(share.value)) % ORDER
    return TrusteeKey(poll_id=setup.poll_id, trustee=recipient, secret=scalar_hex(secret))


def _aggregate(setup: TrusteeSetup) -> list[bytes]:
    # Commitments to the coefficients of the joint polynomial (the sum of all dealt polynomials).
    totals = [IDENTITY] * setup.threshold
    for commitment in setup.dealers:
        for k, encoded in enumerate(commitment.coefficients):
            totals[k] = add(totals[k], point_from_hex(encoded))
    return totals


def election_public_key(setup: TrusteeSetup) -> bytes:
    """y = g^(sum of the dealers' secrets)."""
    return _aggregate(setup)[0]


def verification_keys(setup: TrusteeSetup) -> dict[int, bytes]:
    """g^(x_j) for every trustee j, computed from public commitments only."""
    totals = _aggregate(setup)
    return {j: _commitment_at(totals, j) for j in range(1, setup.trustees + 1)}


def lagrange_at_zero(indices: Sequence[int]) -> dict[int, int]:
    """Coefficients that recombine f(0) from the values f(i), i in `indices` (distinct, non-zero)."""
    coefficients = {}
    for i in indices:
        numerator, denominator = 1, 1
        for k in indices:
            if k != i:
                numerator = numerator * k % ORDER
                denominator = denominator * (k - i) % ORDER
        coefficients[i] = numerator * pow(denominator, -1, ORDER) % ORDER
    return coefficients


def run_ceremony_in_one_process(
    poll_id: str, threshold: int, trustees: int, rng: Randomness
) -> tuple[TrusteeSetup, tuple[TrusteeKey, ...]]:
    """Every trustee's part on one machine, for tests, demos and benchmarks: real polls split it up."""
    dealings = [deal(poll_id, i, threshold, trustees, rng) for i in range(1, trustees + 1)]
    setup = TrusteeSetup(
        poll_id=poll_id, threshold=threshold, trustees=trustees, dealers=tuple(c for c, _ in dealings)
    )
    shares = [share for _, dealt in dealings for share in dealt]
    keys = tuple(combine_shares(setup, j, shares) for j in range(1, trustees + 1))
    return setup, keys
