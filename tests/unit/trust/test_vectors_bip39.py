"""BIP-39 vectors (trezor/python-mnemonic vectors.json, English, passphrase "TREZOR")."""

from __future__ import annotations

import json

import pytest

from shared.trust.recovery import entropy_to_phrase, phrase_to_seed, validate_phrase

from .vectors import VECTORS

ENGLISH: list[list[str]] = json.loads((VECTORS / "bip39" / "vectors.json").read_text())["english"]


def test_the_english_vectors_include_24_word_phrases() -> None:
    assert len(ENGLISH) == 24
    assert sum(len(phrase.split()) == 24 for _, phrase, _, _ in ENGLISH) == 8


@pytest.mark.parametrize(("entropy", "phrase", "seed", "_xprv"), ENGLISH)
def test_entropy_gives_the_phrase_and_the_phrase_gives_the_seed(
    entropy: str, phrase: str, seed: str, _xprv: str
) -> None:
    assert entropy_to_phrase(bytes.fromhex(entropy)) == phrase
    assert validate_phrase(phrase, words=None) == phrase
    assert phrase_to_seed(phrase, "TREZOR", words=None).hex() == seed
