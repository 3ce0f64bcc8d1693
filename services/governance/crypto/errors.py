"""Typed errors of the secret-ballot cryptography."""

from __future__ import annotations


class BallotCryptoError(Exception):
    """Base class: something in public or private ballot data cannot be used."""


class InvalidPoint(BallotCryptoError):
    """An encoded point is malformed, off the curve, of small order or outside the prime-order subgroup."""


class InvalidScalar(BallotCryptoError):
    """An encoded scalar is malformed or not reduced modulo the group order."""


class InvalidSetup(BallotCryptoError):
    """Trustee parameters are inconsistent (threshold, indices, number of commitments)."""


class ShareRejected(BallotCryptoError):
    """A trustee's secret share does not match the dealer's public commitments: the dealer cheated."""

    def __init__(self, dealer: int, recipient: int) -> None:
        super().__init__(f"share from trustee {dealer} to trustee {recipient} does not match its commitments")
        self.dealer = dealer
        self.recipient = recipient


class DecryptionFailed(BallotCryptoError):
    """Too few valid partial decryptions, or a plaintext outside the expected range."""
