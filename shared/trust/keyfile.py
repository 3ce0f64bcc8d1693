"""Member keys encrypted at rest: a small JSON keyfile sealed with a passphrase.

Format (version 1; every binary value is standard base64):

    {
      "type": "cos-keyfile",
      "version": 1,
      "did": "did:key:z6Mk…",
      "derivationPath": "m/26'/0'/0'/0'",
      "kdf": {"name": "argon2id13", "opslimit": 3, "memlimit": 268435456, "salt": "…16 bytes…"},
      "cipher": {"name": "xsalsa20poly1305", "nonce": "…24 bytes…", "ciphertext": "…48 bytes…"}
    }

The key is libsodium's Argon2id (`crypto_pwhash`, v1.3) of the passphrase; the cipher is
libsodium's SecretBox (XSalsa20-Poly1305). The plaintext is the 32-byte Ed25519 secret key at
`derivationPath`, not the recovery phrase: a stolen file plus passphrase yields one key, never the
phrase. `did` is in clear so a file can be listed without the passphrase; after decryption the
key must produce that DID, so an edited `did` is caught.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash.argon2id
import nacl.secret
import nacl.utils

from shared.trust.errors import KeyfileError, KeyfileFailure
from shared.trust.member_keys import MEMBER_SIGNING_PATH, MemberKeys

__all__ = [
    "DEFAULT_MEMLIMIT",
    "DEFAULT_OPSLIMIT",
    "KEYFILE_TYPE",
    "KEYFILE_VERSION",
    "open_keyfile",
    "read_keyfile",
    "seal_keyfile",
    "write_keyfile",
]

KEYFILE_TYPE = "cos-keyfile"
KEYFILE_VERSION = 1
_KDF_NAME = "argon2id13"
_CIPHER_NAME = "xsalsa20poly1305"
# libsodium's "moderate" profile: about a second and 256 MiB, for a key that is opened rarely.
DEFAULT_OPSLIMIT: int = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
DEFAULT_MEMLIMIT: int = nacl.pwhash.argon2id.MEMLIMIT_MODERATE
# A file may ask for at most the "sensitive" profile: a bigger request is refused, not obeyed.
_MAX_OPSLIMIT: int = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
_MAX_MEMLIMIT: int = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE


def _derive_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    key: bytes = nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        salt,
        opslimit=opslimit,
        memlimit=memlimit,
    )
    return key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def seal_keyfile(
    keys: MemberKeys,
    passphrase: str,
    *,
    opslimit: int = DEFAULT_OPSLIMIT,
    memlimit: int = DEFAULT_MEMLIMIT,
) -> dict[str, Any]:
    """The keyfile object holding `keys` encrypted under `passphrase`."""
    if not passphrase:
        raise KeyfileError(KeyfileFailure.UNSAFE_PARAMETERS, "the passphrase is empty")
    _check_limits(opslimit, memlimit)
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    box = nacl.secret.SecretBox(_derive_key(passphrase, salt, opslimit, memlimit))
    ciphertext = box.encrypt(keys.signing_key.seed, nonce).ciphertext
    return {
        "type": KEYFILE_TYPE,
        "version": KEYFILE_VERSION,
        "did": keys.did,
        "derivationPath": MEMBER_SIGNING_PATH,
        "kdf": {"name": _KDF_NAME, "opslimit": opslimit, "memlimit": memlimit, "salt": _b64(salt)},
        "cipher": {"name": _CIPHER_NAME, "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)},
    }


def open_keyfile(keyfile: object, passphrase: str) -> MemberKeys:
    """The keys sealed in a keyfile object; KeyfileError says why when they cannot be trusted."""
    if not isinstance(keyfile, dict):
        raise KeyfileError(KeyfileFailure.MALFORMED, "a keyfile is a JSON object")
    if keyfile.get("type") != KEYFILE_TYPE or keyfile.get("version") != KEYFILE_VERSION:
        raise KeyfileError(
            KeyfileFailure.UNSUPPORTED,
            f"not a {KEYFILE_TYPE} version {KEYFILE_VERSION} file "
            f"(type={keyfile.get('type')!r}, version={keyfile.get('version')!r})",
        )
    kdf, cipher = keyfile.get("kdf"), keyfile.get("cipher")
    if not isinstance(kdf, dict) or not isinstance(cipher, dict):
        raise KeyfileError(KeyfileFailure.MALFORMED, "keyfile lacks its 'kdf' or 'cipher' object")
    if kdf.get("name") != _KDF_NAME or cipher.get("name") != _CIPHER_NAME:
        raise KeyfileError(
            KeyfileFailure.UNSUPPORTED,
            f"unsupported kdf {kdf.get('name')!r} or cipher {cipher.get('name')!r}",
        )
    opslimit, memlimit = kdf.get("opslimit"), kdf.get("memlimit")
    if type(opslimit) is not int or type(memlimit) is not int:  # bool is an int, but not here
        raise KeyfileError(KeyfileFailure.MALFORMED, "kdf opslimit and memlimit must be integers")
    _check_limits(opslimit, memlimit)
    salt = _unb64(kdf.get("salt"), "kdf.salt", nacl.pwhash.argon2id.SALTBYTES)
    nonce = _unb64(cipher.get("nonce"), "cipher.nonce", nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = _unb64(cipher.get("ciphertext"), "cipher.ciphertext", None)
    box = nacl.secret.SecretBox(_derive_key(passphrase, salt, opslimit, memlimit))
    try:
        seed = box.decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError as exc:
        raise KeyfileError(
            KeyfileFailure.WRONG_PASSPHRASE, "wrong passphrase, or the keyfile was altered"
        ) from exc
    if len(seed) != 32:
        raise KeyfileError(KeyfileFailure.MALFORMED, "the sealed key is not 32 bytes")
    keys = MemberKeys.from_seed(seed)
    if keys.did != keyfile.get("did"):
        raise KeyfileError(
            KeyfileFailure.DID_MISMATCH,
            f"the sealed key belongs to {keys.did}, not to the file's did {keyfile.get('did')!r}",
        )
    return keys


def write_keyfile(path: Path, keyfile: dict[str, Any]) -> None:
    """Write a keyfile readable by its owner only (mode 0600); an existing file is not replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(keyfile, handle, indent=2)
        handle.write("\n")


def read_keyfile(path: Path, passphrase: str) -> MemberKeys:
    """Open the keyfile at `path` with `passphrase`."""
    try:
        keyfile = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyfileError(KeyfileFailure.MALFORMED, f"{path} is not a JSON keyfile") from exc
    return open_keyfile(keyfile, passphrase)


def _check_limits(opslimit: int, memlimit: int) -> None:
    ops_ok = nacl.pwhash.argon2id.OPSLIMIT_MIN <= opslimit <= _MAX_OPSLIMIT
    mem_ok = nacl.pwhash.argon2id.MEMLIMIT_MIN <= memlimit <= _MAX_MEMLIMIT
    if not (ops_ok and mem_ok):
        raise KeyfileError(
            KeyfileFailure.UNSAFE_PARAMETERS,
            f"Argon2id limits out of range: opslimit={opslimit}, memlimit={memlimit}",
        )


def _unb64(value: object, name: str, size: int | None) -> bytes:
    if not isinstance(value, str):
        raise KeyfileError(KeyfileFailure.MALFORMED, f"keyfile {name} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise KeyfileError(KeyfileFailure.MALFORMED, f"keyfile {name} is not base64") from exc
    if size is not None and len(raw) != size:
        raise KeyfileError(KeyfileFailure.MALFORMED, f"keyfile {name} must be {size} bytes")
    return raw
