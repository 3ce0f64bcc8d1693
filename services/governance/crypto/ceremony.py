"""A trustee's part of the key ceremony, made from her own member key, with nothing kept in between.

The web app (`services/gateway/web/js/trustee.js`) does exactly this in the browser; this module is
the same arithmetic for programs, tests and anyone checking the app.

- Her polynomial is derived, not stored: its coefficients are hashes of her Ed25519 signature of a
  fixed message naming the poll. Ed25519 signatures are deterministic, so she gets the same
  polynomial again at decryption time (and on a retried commit) from her recovery phrase alone.
  The message is never signed for anything else: it is not a JSON statement, and no act signs it.
- The shares she deals to the other trustees travel in her signed `commit_trustee` act, each in a
  libsodium sealed box (crypto_box_seal) to the X25519 key of the recipient's did:key. They are in
  the public log, readable only by their recipient, who checks each against its dealer's published
  Feldman commitments before using it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence

import msgspec
import nacl.bindings
import nacl.exceptions

from shared.multikey import public_key_from_did_key

from .errors import InvalidSetup, ShareRejected
from .group import hash_to_scalar, integer, scalar_from_hex, scalar_hex, text
from .randomness import Randomness
from .threshold import DealerCommitment, SecretShare, TrusteeKey, TrusteeSetup, combine_shares, deal, evaluate

POLYNOMIAL_MESSAGE_PREFIX = "community-os/secret-ballot/v1/trustee-polynomial\n"
"""What a trustee signs (followed by the poll's crypto id) to derive her polynomial."""

MAX_SEALED_SHARE = 512
"""Bytes: a sealed share is 48 bytes of box around about 140 bytes of JSON."""


class SealedShare(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One dealt share, sealed to its recipient: the JSON of a SecretShare in a crypto_box_seal, base64."""

    recipient: int
    box: str


def polynomial_message(poll_id: str) -> bytes:
    """The bytes a trustee signs so that her polynomial for `poll_id` can be derived again."""
    return (POLYNOMIAL_MESSAGE_PREFIX + poll_id).encode()


def derived_coefficients(signature: bytes, poll_id: str, threshold: int) -> list[int]:
    """The `threshold` coefficients of her polynomial, from her signature of polynomial_message."""
    if len(signature) != 64:
        raise InvalidSetup("the derivation needs a 64-byte Ed25519 signature")
    return [
        hash_to_scalar("trustee-polynomial", [signature, text(poll_id), integer(k)]) for k in range(threshold)
    ]


def _x25519_public(did: str) -> bytes:
    return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public_key_from_did_key(did))


def seal_share(share: SecretShare, recipient_did: str) -> SealedShare:
    """`share` sealed to the X25519 key of `recipient_did` (a did:key)."""
    box = nacl.bindings.crypto_box_seal(msgspec.json.encode(share), _x25519_public(recipient_did))
    return SealedShare(recipient=share.recipient, box=base64.b64encode(box).decode())


def open_share(sealed: SealedShare, dealer: int, x25519_private: bytes, x25519_public: bytes) -> SecretShare:
    """Her share from `dealer`, opened; ShareRejected when it cannot be opened or names others."""
    try:
        box = base64.b64decode(sealed.box, validate=True)
        plain = nacl.bindings.crypto_box_seal_open(box, x25519_public, x25519_private)
        share = msgspec.json.decode(plain, type=SecretShare)
        scalar_from_hex(share.value)
    except (binascii.Error, ValueError, nacl.exceptions.CryptoError, msgspec.DecodeError) as exc:
        raise ShareRejected(dealer, sealed.recipient) from exc
    if share.dealer != dealer or share.recipient != sealed.recipient:
        raise ShareRejected(dealer, sealed.recipient)
    return share


def check_sealed_shares(shares: Iterable[SealedShare], dealer: int, trustees: int) -> list[SealedShare]:
    """What the service can check of dealt shares: one well-formed box for every other trustee."""
    listed = sorted(shares, key=lambda s: s.recipient)
    wanted = [j for j in range(1, trustees + 1) if j != dealer]
    if [s.recipient for s in listed] != wanted:
        raise InvalidSetup(f"trustee {dealer} must deal one sealed share to each of trustees {wanted}")
    for share in listed:
        try:
            size = len(base64.b64decode(share.box, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise InvalidSetup(f"the share for trustee {share.recipient} is not base64") from exc
        if not 48 < size <= MAX_SEALED_SHARE:
            raise InvalidSetup(f"the share for trustee {share.recipient} is not a sealed box")
    return listed


Signer = Callable[[bytes], bytes]
"""Her Ed25519 signing function (raw 64-byte signature of the given bytes)."""


def deal_as_trustee(
    sign: Signer,
    poll_id: str,
    dealer: int,
    threshold: int,
    trustee_dids: Sequence[str],
    rng: Randomness,
) -> tuple[DealerCommitment, list[SealedShare]]:
    """Her `commit_trustee` body parts: the commitment and the shares sealed to the other trustees."""
    coefficients = derived_coefficients(sign(polynomial_message(poll_id)), poll_id, threshold)
    commitment, shares = deal(poll_id, dealer, threshold, len(trustee_dids), rng, coefficients=coefficients)
    sealed = [seal_share(s, trustee_dids[s.recipient - 1]) for s in shares if s.recipient != dealer]
    return commitment, sealed


def trustee_key(
    sign: Signer,
    setup: TrusteeSetup,
    me: int,
    sealed: dict[int, SealedShare],
    x25519_private: bytes,
    x25519_public: bytes,
    revealed: dict[int, SecretShare] | None = None,
) -> TrusteeKey:
    """Her decryption key: her own share re-derived, plus every other dealer's share opened and checked.

    `sealed` maps each other dealer to the share it sealed to her; `revealed` maps a dealer she
    complained of to the share it revealed in answer, used instead. ShareRejected names a dealer
    whose share is missing, unreadable or does not match its commitments.
    """
    poll_id = setup.poll_id
    coefficients = derived_coefficients(sign(polynomial_message(poll_id)), poll_id, setup.threshold)
    shares = [SecretShare(dealer=me, recipient=me, value=scalar_hex(evaluate(coefficients, me)))]
    for commitment in setup.dealers:
        if commitment.dealer == me:
            continue
        answer = (revealed or {}).get(commitment.dealer)
        if answer is not None:
            shares.append(answer)  # checked against the dealer's commitments with the others
            continue
        box = sealed.get(commitment.dealer)
        if box is None or box.recipient != me:
            raise ShareRejected(commitment.dealer, me)
        shares.append(open_share(box, commitment.dealer, x25519_private, x25519_public))
    return combine_shares(setup, me, shares)
