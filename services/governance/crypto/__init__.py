"""Helios-style secret ballots over the Ed25519 prime-order group: pure functions, no I/O, no clock.

Randomness is always passed in (`SystemRandomness` for real use), so every function is repeatable
under a seeded source and every verification is a pure function of public data that pickles well.
"""

from .ballot import (
    BallotCheck,
    BallotRules,
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
from .elgamal import Ciphertext
from .errors import (
    BallotCryptoError,
    DecryptionFailed,
    InvalidPoint,
    InvalidScalar,
    InvalidSetup,
    ShareRejected,
)
from .proofs import Proof, RangeProof
from .randomness import DeterministicRandomness, Randomness, SystemRandomness
from .tally import (
    EncryptedTally,
    PartialDecryption,
    TallyCheck,
    TallyResult,
    check_partial_decryption,
    combine_partial_decryptions,
    partial_decrypt,
    tally_ballots,
    verify_tally,
)
from .threshold import (
    DealerCommitment,
    SecretShare,
    TrusteeKey,
    TrusteeSetup,
    combine_shares,
    deal,
    election_public_key,
    run_ceremony_in_one_process,
    verification_keys,
    verify_dealer,
    verify_setup,
    verify_share,
)

__all__ = [
    "BallotCheck",
    "BallotCryptoError",
    "BallotRules",
    "Ciphertext",
    "DealerCommitment",
    "DecryptionFailed",
    "DeterministicRandomness",
    "EncryptedBallot",
    "EncryptedTally",
    "InvalidPoint",
    "InvalidScalar",
    "InvalidSetup",
    "PartialDecryption",
    "PollKey",
    "Proof",
    "Randomness",
    "RangeProof",
    "SecretShare",
    "ShareRejected",
    "SystemRandomness",
    "TallyCheck",
    "TallyResult",
    "TrusteeKey",
    "TrusteeSetup",
    "ballot_tracker",
    "canonical_bytes",
    "check_partial_decryption",
    "combine_partial_decryptions",
    "combine_shares",
    "deal",
    "decode_ballot",
    "election_public_key",
    "encrypt_ballot",
    "partial_decrypt",
    "run_ceremony_in_one_process",
    "short_tracker",
    "tally_ballots",
    "verification_keys",
    "verify_ballot",
    "verify_ballots",
    "verify_ballots_in_parallel",
    "verify_dealer",
    "verify_setup",
    "verify_share",
    "verify_tally",
]
