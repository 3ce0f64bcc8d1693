"""C2SP tlog-checkpoint bodies inside C2SP signed notes, signed with Ed25519.

A checkpoint body (c2sp.org/tlog-checkpoint):

    <origin>\\n
    <tree size, decimal>\\n
    <root hash, base64>\\n
    [extension lines]\\n

A signed note (c2sp.org/signed-note) is the body, one empty line, then signature lines
`— <key name> <base64(key id || signature)>\\n`, where the key id is the first four bytes of
SHA-256(<key name> || 0x0A || 0x01 || <32-byte Ed25519 public key>) and the signature is Ed25519
over the body bytes (up to and including its last newline). A verifier key is written
`<key name>+<key id, 8 hex digits>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from shared.signing import SigningKey

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "NoteSignature",
    "NoteVerifier",
    "SignedCheckpoint",
    "key_id",
    "note_signer_name",
    "parse_signed_checkpoint",
    "sign_checkpoint",
    "verifier_key",
]

ALG_ED25519 = 0x01
_EM_DASH = "\u2014"
_NAME = re.compile(r"^[^\s+]+$")  # key names: non-empty, no whitespace, no plus
_SIG_LINE = re.compile(rf"^{_EM_DASH} (\S+) ([A-Za-z0-9+/=]+)$")


class CheckpointError(ValueError):
    """A note or checkpoint is malformed, or a signature does not verify."""


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 note key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The verifier key text `<name>+<hex key id>+<base64(0x01 || key)>`."""
    if not _NAME.match(name):
        raise CheckpointError(f"key name {name!r} must be non-empty with no spaces or '+'")
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class NoteVerifier:
    """A parsed verifier key."""

    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> NoteVerifier:
        parts = text.strip().split("+", 2)  # base64 may itself contain "+"
        if len(parts) != 3 or not _NAME.match(parts[0]):
            raise CheckpointError(f"verifier key {text!r} is not <name>+<hex id>+<base64 key>")
        name, hex_id, encoded = parts
        try:
            kid = bytes.fromhex(hex_id)
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise CheckpointError(f"verifier key {text!r}: {exc}") from exc
        if len(kid) != 4 or len(raw) != 33 or raw[0] != ALG_ED25519:
            raise CheckpointError(f"verifier key {text!r} is not an Ed25519 note key")
        if key_id(name, raw[1:]) != kid:
            raise CheckpointError(f"verifier key {text!r}: key id does not match name and key")
        return cls(name, kid, raw[1:])

    def text(self) -> str:
        return verifier_key(self.name, self.public_key)


@dataclass(frozen=True)
class Checkpoint:
    """The signed statement: this origin's log had `size` leaves with root hash `root`."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("origin must be one non-empty line")
        if any(not e or "\n" in e for e in self.extensions):
            raise CheckpointError("extension lines must be non-empty single lines")
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    signatures: tuple[NoteSignature, ...]
    text: str  # the whole note, exactly as published

    def verify(self, verifier: NoteVerifier) -> None:
        """Raise CheckpointError unless one signature verifies under `verifier`."""
        body = self.checkpoint.body().encode()
        for sig in self.signatures:
            if sig.name == verifier.name and sig.key_id == verifier.key_id:
                try:
                    VerifyKey(verifier.public_key).verify(body, sig.signature)
                except BadSignatureError as exc:
                    raise CheckpointError(
                        f"signature by {verifier.name} on checkpoint {self.checkpoint.origin} "
                        f"size {self.checkpoint.size} does not verify"
                    ) from exc
                return
        raise CheckpointError(
            f"checkpoint {self.checkpoint.origin} size {self.checkpoint.size} has no signature "
            f"by {verifier.name}+{verifier.key_id.hex()}"
        )

    def signers(self) -> list[tuple[str, bytes]]:
        return [(s.name, s.key_id) for s in self.signatures]


def note_signer_name(deployment: str) -> str:
    """The key name a deployment's checkpointer signs with."""
    return f"{deployment}/checkpointer"


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey, name: str) -> SignedCheckpoint:
    body = checkpoint.body()
    public = key.public_key
    signature = key.sign(body.encode())
    line = f"{_EM_DASH} {name} {base64.b64encode(key_id(name, public) + signature).decode()}\n"
    text = body + "\n" + line
    return SignedCheckpoint(checkpoint, (NoteSignature(name, key_id(name, public), signature),), text)


def parse_signed_checkpoint(text: str) -> SignedCheckpoint:
    """Parse (without verifying) a signed checkpoint note; CheckpointError says what is wrong."""
    body, sep, sig_block = text.partition("\n\n")
    if not sep:
        raise CheckpointError("note has no empty line between body and signatures")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointError("checkpoint body needs origin, tree size and root hash lines")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise CheckpointError("checkpoint origin line is empty")
    if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
        raise CheckpointError(f"checkpoint tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise CheckpointError(f"checkpoint root hash {root_text!r} is not base64") from exc
    if len(root) != 32:
        raise CheckpointError(f"checkpoint root hash is {len(root)} bytes, not 32")
    if any(not e for e in extensions):
        raise CheckpointError("checkpoint body has an empty extension line")
    if not sig_block.endswith("\n"):
        raise CheckpointError("note does not end with a newline")
    signatures = []
    for line in sig_block[:-1].split("\n"):
        match = _SIG_LINE.match(line)
        if match is None:
            raise CheckpointError(f"malformed signature line {line!r}")
        try:
            raw = base64.b64decode(match.group(2), validate=True)
        except (ValueError, binascii.Error) as exc:
            raise CheckpointError(f"signature line {line!r} is not base64") from exc
        if len(raw) != 4 + 64:
            raise CheckpointError(f"signature line {line!r} is not a 4-byte key id and an Ed25519 signature")
        signatures.append(NoteSignature(match.group(1), raw[:4], raw[4:]))
    if not signatures:
        raise CheckpointError("note has no signature")
    checkpoint = Checkpoint(origin, int(size_text), root, tuple(extensions))
    if checkpoint.body() != body:
        raise CheckpointError("checkpoint body does not round-trip (non-canonical encoding)")
    return SignedCheckpoint(checkpoint, tuple(signatures), text)
