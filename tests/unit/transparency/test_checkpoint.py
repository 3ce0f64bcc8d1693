"""C2SP checkpoints in signed notes: format, key ids, signature checks, malformed notes refused."""

from __future__ import annotations

import base64
import hashlib

import pytest

from shared.signing import SigningKey
from shared.transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    NoteVerifier,
    parse_signed_checkpoint,
    sign_checkpoint,
    verifier_key,
)

KEY = SigningKey(bytes(range(32)))
NAME = "cos.example/checkpointer"


def test_a_signed_checkpoint_has_the_c2sp_layout_and_verifies() -> None:
    root = hashlib.sha256(b"x").digest()
    signed = sign_checkpoint(Checkpoint("cos.example/c/demo/membership", 12, root), KEY, NAME)
    origin, size, root_line, blank, signature, end = signed.text.split("\n")
    assert (origin, size, root_line, blank, end) == (
        "cos.example/c/demo/membership",
        "12",
        base64.b64encode(root).decode(),
        "",
        "",
    )
    assert signature.startswith(f"\u2014 {NAME} ")
    key_hash = hashlib.sha256(NAME.encode() + b"\n\x01" + KEY.public_key).digest()[:4]
    assert base64.b64decode(signature.split(" ")[2])[:4] == key_hash
    verifier = NoteVerifier.parse(verifier_key(NAME, KEY.public_key))
    parsed = parse_signed_checkpoint(signed.text)
    assert parsed.checkpoint == signed.checkpoint
    parsed.verify(verifier)


def test_a_changed_body_or_another_key_does_not_verify() -> None:
    signed = sign_checkpoint(Checkpoint("o/c/demo/membership", 3, bytes(32)), KEY, NAME)
    verifier = NoteVerifier.parse(verifier_key(NAME, KEY.public_key))
    altered = parse_signed_checkpoint(signed.text.replace("\n3\n", "\n4\n", 1))
    with pytest.raises(CheckpointError, match="does not verify"):
        altered.verify(verifier)
    other = NoteVerifier.parse(verifier_key(NAME, SigningKey.generate().public_key))
    with pytest.raises(CheckpointError, match="no signature"):
        parse_signed_checkpoint(signed.text).verify(other)


@pytest.mark.parametrize(
    "text",
    [
        "origin\n3\nAAAA\n\n",  # short root, no signature
        "origin\n03\n" + base64.b64encode(bytes(32)).decode() + "\n\n\u2014 k AAAA\n",
        "origin\n3\n" + base64.b64encode(bytes(32)).decode() + "\n",  # no signature block
    ],
)
def test_malformed_notes_are_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        parse_signed_checkpoint(text)


def test_verifier_keys_round_trip_and_bad_ids_are_refused() -> None:
    text = verifier_key(NAME, KEY.public_key)
    assert NoteVerifier.parse(text).text() == text
    name, _, key = text.split("+", 2)
    with pytest.raises(CheckpointError, match="key id"):
        NoteVerifier.parse(f"{name}+00000000+{key}")
