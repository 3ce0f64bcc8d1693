"""BIP-39 recovery phrases (English word list): create, check, and stretch into a 64-byte seed."""

from __future__ import annotations

import unicodedata

from mnemonic import Mnemonic

from shared.trust.errors import RecoveryPhraseError, RecoveryPhraseFailure

__all__ = [
    "PHRASE_WORDS",
    "entropy_to_phrase",
    "new_phrase",
    "normalize_phrase",
    "phrase_to_seed",
    "validate_phrase",
]

PHRASE_WORDS = 24  # 256 bits of entropy + 8 checksum bits
_ALLOWED_WORD_COUNTS = (12, 15, 18, 21, 24)
_ENGLISH = Mnemonic("english")
_WORDS = frozenset(_ENGLISH.wordlist)


def new_phrase() -> str:
    """A fresh 24-word phrase from 256 bits of operating-system randomness."""
    phrase: str = _ENGLISH.generate(strength=256)
    return phrase


def entropy_to_phrase(entropy: bytes) -> str:
    """The BIP-39 phrase that encodes `entropy` (16 to 32 bytes, a multiple of 4)."""
    phrase: str = _ENGLISH.to_mnemonic(entropy)
    return phrase


def normalize_phrase(phrase: str) -> str:
    """NFKD, lower case, single spaces: how a phrase typed or pasted by a person is compared."""
    return " ".join(unicodedata.normalize("NFKD", phrase).lower().split())


def validate_phrase(phrase: str, *, words: int | None = PHRASE_WORDS) -> str:
    """Return the normalized phrase, or raise RecoveryPhraseError saying what is wrong with it.

    `words` is the required word count; None accepts every length BIP-39 defines.
    """
    normalized = normalize_phrase(phrase)
    tokens = normalized.split(" ") if normalized else []
    allowed = _ALLOWED_WORD_COUNTS if words is None else (words,)
    if len(tokens) not in allowed:
        expected = " or ".join(str(count) for count in allowed)
        raise RecoveryPhraseError(
            RecoveryPhraseFailure.WRONG_WORD_COUNT,
            f"a recovery phrase has {expected} words, this one has {len(tokens)}",
        )
    for position, token in enumerate(tokens, start=1):
        if token not in _WORDS:
            raise RecoveryPhraseError(
                RecoveryPhraseFailure.UNKNOWN_WORD,
                f"word {position} ({token!r}) is not in the BIP-39 English word list",
            )
    if not _ENGLISH.check(normalized):
        raise RecoveryPhraseError(
            RecoveryPhraseFailure.BAD_CHECKSUM,
            "the phrase's checksum does not match: a word is wrong or out of order",
        )
    return normalized


def phrase_to_seed(phrase: str, passphrase: str = "", *, words: int | None = PHRASE_WORDS) -> bytes:
    """The 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic" + passphrase."""
    normalized = validate_phrase(phrase, words=words)
    seed: bytes = _ENGLISH.to_seed(normalized, passphrase)
    return seed
