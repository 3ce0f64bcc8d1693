"""Recovery phrases and the member keys they restore: same phrase, same keys, same did:key."""

from __future__ import annotations

import pytest

from shared.trust.errors import (
    DerivationError,
    DerivationFailure,
    RecoveryPhraseError,
    RecoveryPhraseFailure,
)
from shared.trust.member_keys import MEMBER_SIGNING_PATH, MemberKeys
from shared.trust.recovery import PHRASE_WORDS, new_phrase, phrase_to_seed, validate_phrase
from shared.trust.slip10 import HARDENED_OFFSET, derive_path, master_key, parse_path

from .vectors import ZERO_PHRASE

# Pinned once: changing the path or the derivation would silently change every member's DID.
ZERO_PHRASE_DID = "did:key:z6Mkt29hQRHuUaLrY6j8chHNLxNw9m92ZpfhYMTCMRWj7qvQ"
ZERO_PHRASE_X25519 = "ef516d401bc43930d34b5e371fcf59b0d1f868d69ab0af33bc63d3140331cd1a"


def test_a_new_phrase_has_24_valid_words_and_differs_each_time() -> None:
    first, second = new_phrase(), new_phrase()

    assert len(first.split()) == PHRASE_WORDS == 24
    assert validate_phrase(first) == first
    assert first != second


def test_restoring_a_phrase_gives_the_same_keys_and_did() -> None:
    phrase = new_phrase()

    created, restored = MemberKeys.from_phrase(phrase), MemberKeys.from_phrase(phrase)

    assert restored.did == created.did
    assert restored.signing_key.seed == created.signing_key.seed
    assert restored.x25519_private_key == created.x25519_private_key


def test_the_member_path_is_fixed_and_pinned() -> None:
    keys = MemberKeys.from_phrase(ZERO_PHRASE)

    assert MEMBER_SIGNING_PATH == "m/26'/0'/0'/0'"
    assert keys.did == ZERO_PHRASE_DID
    assert keys.x25519_public_key.hex() == ZERO_PHRASE_X25519
    node = derive_path(phrase_to_seed(ZERO_PHRASE), MEMBER_SIGNING_PATH)
    assert keys.signing_key.seed == node.private_key


def test_the_verification_method_is_the_did_and_its_multikey_fragment() -> None:
    keys = MemberKeys.from_phrase(ZERO_PHRASE)

    assert keys.verification_method == f"{ZERO_PHRASE_DID}#{ZERO_PHRASE_DID[8:]}"


def test_typing_variations_of_a_phrase_restore_the_same_identity() -> None:
    messy = "  " + ZERO_PHRASE.upper().replace(" ", " \n ") + "\n"

    assert MemberKeys.from_phrase(messy).did == ZERO_PHRASE_DID


def test_member_keys_do_not_print_their_secret() -> None:
    keys = MemberKeys.from_phrase(ZERO_PHRASE)

    assert keys.signing_key.seed.hex() not in repr(keys)


@pytest.mark.parametrize(
    ("phrase", "reason"),
    [
        (" ".join(ZERO_PHRASE.split()[:12]), RecoveryPhraseFailure.WRONG_WORD_COUNT),
        ("", RecoveryPhraseFailure.WRONG_WORD_COUNT),
        (ZERO_PHRASE.replace("art", "artichoke"), RecoveryPhraseFailure.UNKNOWN_WORD),
        (ZERO_PHRASE.replace("art", "zoo"), RecoveryPhraseFailure.BAD_CHECKSUM),
    ],
    ids=["twelve-words", "empty", "unknown-word", "bad-checksum"],
)
def test_invalid_phrases_are_refused_with_a_reason(phrase: str, reason: RecoveryPhraseFailure) -> None:
    with pytest.raises(RecoveryPhraseError) as caught:
        MemberKeys.from_phrase(phrase)

    assert caught.value.reason is reason


def test_an_unknown_word_is_named_with_its_position() -> None:
    with pytest.raises(RecoveryPhraseError, match=r"word 24 \('artichoke'\)"):
        validate_phrase(ZERO_PHRASE.replace("art", "artichoke"))


def test_paths_parse_with_any_hardened_mark() -> None:
    expected = (26 + HARDENED_OFFSET, HARDENED_OFFSET, HARDENED_OFFSET, HARDENED_OFFSET)

    assert parse_path("m/26'/0'/0'/0'") == expected
    assert parse_path("m/26h/0H/0'/0h") == expected
    assert parse_path("m") == ()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("m/26'/0", DerivationFailure.NON_HARDENED),
        ("26'/0'", DerivationFailure.BAD_PATH),
        ("m/-1'", DerivationFailure.BAD_PATH),
        ("m/2147483648'", DerivationFailure.BAD_PATH),
        ("m/01'", DerivationFailure.BAD_PATH),
    ],
)
def test_bad_paths_are_refused_with_a_reason(path: str, reason: DerivationFailure) -> None:
    with pytest.raises(DerivationError) as caught:
        parse_path(path)

    assert caught.value.reason is reason


def test_public_derivation_indexes_are_refused() -> None:
    with pytest.raises(DerivationError) as caught:
        master_key(bytes(32)).child(5)

    assert caught.value.reason is DerivationFailure.NON_HARDENED


@pytest.mark.parametrize("size", [15, 65])
def test_seeds_outside_16_to_64_bytes_are_refused(size: int) -> None:
    with pytest.raises(DerivationError) as caught:
        master_key(bytes(size))

    assert caught.value.reason is DerivationFailure.BAD_SEED
