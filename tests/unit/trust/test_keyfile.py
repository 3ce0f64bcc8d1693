"""Encrypted keyfiles: Argon2id + SecretBox, readable only with the passphrase, tamper-evident."""

from __future__ import annotations

import base64
import copy
import json
import stat
from pathlib import Path
from typing import Any

import nacl.pwhash.argon2id
import pytest

from shared.trust.errors import KeyfileError, KeyfileFailure
from shared.trust.keyfile import open_keyfile, read_keyfile, seal_keyfile, write_keyfile
from shared.trust.member_keys import MemberKeys

from .vectors import ZERO_PHRASE

# The smallest libsodium allows: the format is under test here, not the work factor.
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


@pytest.fixture
def keys() -> MemberKeys:
    return MemberKeys.from_phrase(ZERO_PHRASE)


@pytest.fixture
def sealed(keys: MemberKeys) -> dict[str, Any]:
    return seal_keyfile(keys, "correct horse", **FAST)


def test_a_sealed_keyfile_opens_with_its_passphrase(keys: MemberKeys, sealed: dict[str, Any]) -> None:
    assert open_keyfile(sealed, "correct horse").did == keys.did


def test_the_keyfile_names_its_did_and_path_but_not_the_key(keys: MemberKeys, sealed: dict[str, Any]) -> None:
    text = json.dumps(sealed)

    assert sealed["type"] == "cos-keyfile"
    assert sealed["version"] == 1
    assert sealed["did"] == keys.did
    assert sealed["derivationPath"] == "m/26'/0'/0'/0'"
    assert sealed["kdf"]["name"] == "argon2id13"
    assert sealed["cipher"]["name"] == "xsalsa20poly1305"
    assert keys.signing_key.seed.hex() not in text
    assert base64.b64encode(keys.signing_key.seed).decode() not in text


def test_sealing_twice_uses_fresh_salt_and_nonce(keys: MemberKeys) -> None:
    first, second = seal_keyfile(keys, "pw", **FAST), seal_keyfile(keys, "pw", **FAST)

    assert first["kdf"]["salt"] != second["kdf"]["salt"]
    assert first["cipher"]["nonce"] != second["cipher"]["nonce"]


def test_the_default_work_factor_is_libsodiums_moderate_profile(keys: MemberKeys) -> None:
    sealed = seal_keyfile(keys, "pw")

    assert sealed["kdf"]["opslimit"] == nacl.pwhash.argon2id.OPSLIMIT_MODERATE
    assert sealed["kdf"]["memlimit"] == nacl.pwhash.argon2id.MEMLIMIT_MODERATE


def test_a_wrong_passphrase_is_refused(sealed: dict[str, Any]) -> None:
    with pytest.raises(KeyfileError) as caught:
        open_keyfile(sealed, "wrong horse")

    assert caught.value.reason is KeyfileFailure.WRONG_PASSPHRASE


def test_an_altered_ciphertext_is_refused(sealed: dict[str, Any]) -> None:
    altered = copy.deepcopy(sealed)
    raw = bytearray(base64.b64decode(altered["cipher"]["ciphertext"]))
    raw[-1] ^= 1
    altered["cipher"]["ciphertext"] = base64.b64encode(bytes(raw)).decode()

    with pytest.raises(KeyfileError) as caught:
        open_keyfile(altered, "correct horse")

    assert caught.value.reason is KeyfileFailure.WRONG_PASSPHRASE


def test_an_edited_did_is_caught_after_decryption(sealed: dict[str, Any]) -> None:
    altered = dict(sealed, did=MemberKeys.from_phrase(_other_phrase()).did)

    with pytest.raises(KeyfileError) as caught:
        open_keyfile(altered, "correct horse")

    assert caught.value.reason is KeyfileFailure.DID_MISMATCH


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"version": 2}, KeyfileFailure.UNSUPPORTED),
        ({"type": "something-else"}, KeyfileFailure.UNSUPPORTED),
        ({"kdf": None}, KeyfileFailure.MALFORMED),
        ({"cipher": {"name": "aes"}}, KeyfileFailure.UNSUPPORTED),
    ],
)
def test_unsupported_or_malformed_files_are_refused(
    sealed: dict[str, Any], change: dict[str, Any], reason: KeyfileFailure
) -> None:
    with pytest.raises(KeyfileError) as caught:
        open_keyfile({**sealed, **change}, "correct horse")

    assert caught.value.reason is reason


def test_a_file_demanding_excessive_work_is_refused_before_any_work(
    sealed: dict[str, Any],
) -> None:
    greedy = copy.deepcopy(sealed)
    greedy["kdf"]["memlimit"] = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE * 4

    with pytest.raises(KeyfileError) as caught:
        open_keyfile(greedy, "correct horse")

    assert caught.value.reason is KeyfileFailure.UNSAFE_PARAMETERS


def test_an_empty_passphrase_is_refused(keys: MemberKeys) -> None:
    with pytest.raises(KeyfileError) as caught:
        seal_keyfile(keys, "", **FAST)

    assert caught.value.reason is KeyfileFailure.UNSAFE_PARAMETERS


def test_written_keyfiles_are_owner_only_and_never_overwritten(
    tmp_path: Path, keys: MemberKeys, sealed: dict[str, Any]
) -> None:
    path = tmp_path / "member.key.json"

    write_keyfile(path, sealed)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_keyfile(path, "correct horse").did == keys.did
    with pytest.raises(FileExistsError):
        write_keyfile(path, sealed)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("not json")

    with pytest.raises(KeyfileError) as caught:
        read_keyfile(path, "pw")

    assert caught.value.reason is KeyfileFailure.MALFORMED


def _other_phrase() -> str:
    return " ".join(["zoo"] * 23 + ["vote"])
