"""The `cos keys`, `cos vc` and `cos did` commands, through `cos.cli.main` as a user runs them."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import base58
import nacl.pwhash.argon2id
import pytest

from cos.cli import main
from shared.trust import keyfile
from shared.trust.member_keys import MemberKeys

from .vectors import VECTORS, ZERO_PHRASE

ZERO_DID = MemberKeys.from_phrase(ZERO_PHRASE).did
SHORT_KEY_DID = "did:key:z" + base58.b58encode(b"\xed\x01" + bytes(range(31))).decode()
UNSIGNED = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "validFrom": "2024-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:ada", "memberOf": "Example Community"},
}


@pytest.fixture(autouse=True)
def fast_keyfiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyfiles written here use libsodium's minimum work factor; test_keyfile checks the default."""
    seal = keyfile.seal_keyfile

    def seal_fast(keys: MemberKeys, passphrase: str) -> dict[str, Any]:
        return seal(
            keys,
            passphrase,
            opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
            memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN,
        )

    monkeypatch.setattr("cos.commands.keys.seal_keyfile", seal_fast)


def _run(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_keys_new_prints_a_did_and_a_phrase_that_restores_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(["keys", "new", "--json"], capsys, monkeypatch)
    created = json.loads(out)

    assert code == 0
    assert set(created) == {"did", "phrase"}
    assert created["did"].startswith("did:key:z6Mk")
    assert len(created["phrase"].split()) == 24

    code, out, _ = _run(["keys", "restore", "--json"], capsys, monkeypatch, created["phrase"] + "\n")

    assert code == 0
    assert json.loads(out) == {"did": created["did"]}


def test_keys_restore_refuses_a_bad_phrase_with_the_reason(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = ZERO_PHRASE.replace("art", "zoo")

    code, out, err = _run(["keys", "restore", "--json"], capsys, monkeypatch, bad)

    assert code == 1
    assert out == ""
    assert "checksum" in err
    assert len(err.strip().splitlines()) == 1


def test_keys_new_can_seal_the_key_in_a_keyfile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COS_PASSPHRASE", "correct horse")
    path = tmp_path / "member.json"

    code, out, _ = _run(["keys", "new", "--json", "--keyfile", str(path)], capsys, monkeypatch)

    assert code == 0
    assert keyfile.read_keyfile(path, "correct horse").did == json.loads(out)["did"]


def test_keys_restore_refuses_to_overwrite_a_keyfile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COS_PASSPHRASE", "correct horse")
    path = tmp_path / "member.json"
    argv = ["keys", "restore", "--keyfile", str(path)]

    assert _run(argv, capsys, monkeypatch, ZERO_PHRASE)[0] == 0
    code, _, err = _run(argv, capsys, monkeypatch, ZERO_PHRASE)

    assert code == 1
    assert "exists" in err


def test_vc_sign_then_verify_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unsigned = _write(tmp_path / "unsigned.json", UNSIGNED)

    code, out, _ = _run(["vc", "sign", str(unsigned)], capsys, monkeypatch, ZERO_PHRASE + "\n")
    signed = json.loads(out)

    assert code == 0
    assert signed["issuer"] == ZERO_DID
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert signed["proof"]["verificationMethod"].startswith(ZERO_DID + "#z6Mk")

    code, out, err = _run(
        ["vc", "verify", str(_write(tmp_path / "signed.json", signed))], capsys, monkeypatch
    )

    assert code == 0
    assert out.startswith("valid")
    assert err == ""


def test_vc_sign_can_use_a_keyfile_instead_of_the_phrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COS_PASSPHRASE", "correct horse")
    path = tmp_path / "member.json"
    _run(["keys", "restore", "--keyfile", str(path)], capsys, monkeypatch, ZERO_PHRASE)
    unsigned = _write(tmp_path / "unsigned.json", UNSIGNED)

    code, out, _ = _run(["vc", "sign", str(unsigned), "--keyfile", str(path)], capsys, monkeypatch)

    assert code == 0
    assert json.loads(out)["issuer"] == ZERO_DID


def test_vc_sign_refuses_a_credential_of_another_issuer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unsigned = _write(tmp_path / "u.json", {**UNSIGNED, "issuer": "did:example:someone"})

    code, out, err = _run(["vc", "sign", str(unsigned)], capsys, monkeypatch, ZERO_PHRASE)

    assert code == 1
    assert out == ""
    assert "issuer" in err


def _signed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    unsigned = _write(tmp_path / "unsigned.json", UNSIGNED)
    _, out, _ = _run(["vc", "sign", str(unsigned)], capsys, monkeypatch, ZERO_PHRASE)
    signed: dict[str, Any] = json.loads(out)
    return signed


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda vc: vc["credentialSubject"].update(memberOf="Another Community"), "altered"),
        (lambda vc: vc["proof"].update(cryptosuite="eddsa-rdfc-2022"), "cryptosuite"),
        (lambda vc: vc["proof"].pop("proofValue"), "proofValue"),
        (lambda vc: vc.update(validUntil="2024-06-01T00:00:00Z"), "signature"),
        (lambda vc: vc.update(issuer="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"), "issuer"),
    ],
    ids=["altered-field", "wrong-cryptosuite", "no-proof-value", "extended-validity", "other-issuer"],
)
def test_vc_verify_fails_with_a_one_line_reason(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    damage: Any,
    reason: str,
) -> None:
    credential = _signed(tmp_path, capsys, monkeypatch)
    damage(credential)

    code, out, err = _run(
        ["vc", "verify", str(_write(tmp_path / "bad.json", credential))], capsys, monkeypatch
    )

    assert code != 0
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("invalid: ")
    assert reason in err


def test_vc_verify_refuses_an_expired_credential(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    unsigned = _write(tmp_path / "u.json", {**UNSIGNED, "validUntil": "2024-06-01T00:00:00Z"})
    _, out, _ = _run(["vc", "sign", str(unsigned)], capsys, monkeypatch, ZERO_PHRASE)

    code, _, err = _run(
        ["vc", "verify", str(_write(tmp_path / "s.json", json.loads(out)))], capsys, monkeypatch
    )

    assert code == 1
    assert "expired" in err


@pytest.mark.parametrize(
    ("content", "reason"),
    [("{not json", "not valid JSON"), ('{"a": 1, "a": 2}', "duplicate")],
)
def test_vc_verify_refuses_unreadable_json(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content: str,
    reason: str,
) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)

    code, _, err = _run(["vc", "verify", str(path)], capsys, monkeypatch)

    assert code == 1
    assert reason in err


def test_vc_verify_reports_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run(["vc", "verify", str(tmp_path / "absent.json")], capsys, monkeypatch)

    assert code == 1
    assert "cannot read" in err


def test_vc_verify_checks_the_w3c_signed_vector_up_to_its_non_did_issuer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The W3C vector's issuer is an https URL while its key is a did:key: the proof is sound,
    # but the key does not belong to the issuer, which a credential verifier must refuse.
    signed = VECTORS / "vc-di-eddsa" / "eddsa-jcs-2022" / "signedJCS.json"

    code, _, err = _run(["vc", "verify", str(signed)], capsys, monkeypatch)

    assert code == 1
    assert "https://vc.example/issuers/5678" in err


def test_did_resolve_prints_the_did_document(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = json.loads((VECTORS / "did-key" / "spec-appendix-ed25519-x25519.json").read_text())

    code, out, _ = _run(["did", "resolve", expected["id"]], capsys, monkeypatch)

    assert code == 0
    assert json.loads(out) == expected


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        (SHORT_KEY_DID, "invalidPublicKeyLength"),
        ("did:web:example.com", "methodNotSupported"),
        ("did:webvh:QmScid:example.com", "invalidDid"),
        ("not-a-did", "invalidDid"),
    ],
)
def test_did_resolve_fails_with_the_reason(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, did: str, reason: str
) -> None:
    code, out, err = _run(["did", "resolve", did], capsys, monkeypatch)

    assert code == 1
    assert out == ""
    assert reason in err


def test_keys_new_without_json_shows_the_did_and_the_phrase_to_write_down(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(["keys", "new"], capsys, monkeypatch)
    did, notice, phrase = out.strip().splitlines()

    assert code == 0
    assert "write it down" in notice
    assert MemberKeys.from_phrase(phrase).did == did


def test_a_keyfile_passphrase_typed_twice_differently_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COS_PASSPHRASE", raising=False)
    answers = iter(["first try", "second try"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    path = tmp_path / "member.json"

    code, _, err = _run(["keys", "new", "--keyfile", str(path)], capsys, monkeypatch)

    assert code == 1
    assert "differ" in err
    assert not path.exists()


def test_vc_sign_with_a_wrong_keyfile_passphrase_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "member.json"
    monkeypatch.setenv("COS_PASSPHRASE", "correct horse")
    _run(["keys", "restore", "--keyfile", str(path)], capsys, monkeypatch, ZERO_PHRASE)
    monkeypatch.setenv("COS_PASSPHRASE", "wrong horse")
    unsigned = _write(tmp_path / "unsigned.json", UNSIGNED)

    code, out, err = _run(["vc", "sign", str(unsigned), "--keyfile", str(path)], capsys, monkeypatch)

    assert code == 1
    assert out == ""
    assert "passphrase" in err
