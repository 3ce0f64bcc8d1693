"""`cos did resolve` and `cos vc verify` with did:webvh and status lists, from files or a loopback server."""

from __future__ import annotations

import http.server
import io
import json
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cos.cli import main
from cos.commands import did as did_command
from shared.signing import SigningKey
from shared.trust.credentials import VC_V2_CONTEXT, sign_credential
from shared.trust.fetching import FetchError
from shared.trust.status_list import StatusBitstring, StatusPurpose, status_list_credential, status_list_entry
from shared.trust.webvh_controller import WebvhLog, community_document, create_log, deactivate_log, update_log
from shared.trust.webvh_did import webvh_did_template

UPDATE, ASSERTION = SigningKey(b"\x01" * 32), SigningKey(b"\x04" * 32)
# The log's times are recent so that the CLI, which judges at the real current time, accepts them.
CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
LIST_URL = "https://river.example/status/1"


@pytest.fixture
def community() -> WebvhLog:
    document = community_document(webvh_did_template("river.example"), {"assert-1": ASSERTION.public_key})
    return create_log(document, signing_key=UPDATE, version_time=CREATED)


def _run(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _file(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _signed(community: WebvhLog, unsigned: dict[str, Any]) -> dict[str, Any]:
    method = f"{community.did}#assert-1"
    return sign_credential(unsigned, signing_key=ASSERTION, verification_method=method, created=CREATED)


def _credential(community: WebvhLog, *, status: bool = False) -> dict[str, Any]:
    unsigned: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": community.did,
        "validFrom": CREATED.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {"id": "did:example:ada"},
    }
    if status:
        unsigned["credentialStatus"] = status_list_entry(
            list_url=LIST_URL, index=9, purpose=StatusPurpose.REVOCATION
        )
    return _signed(community, unsigned)


def test_did_resolve_reads_a_local_log(
    community: WebvhLog, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _file(tmp_path / "did.jsonl", community.to_jsonl())

    code, out, err = _run(["did", "resolve", community.did, "--log", log], capsys, monkeypatch)

    assert code == 0
    assert err == ""
    assert json.loads(out)["assertionMethod"] == [f"{community.did}#assert-1"]


def test_did_resolve_gives_an_earlier_version_and_its_metadata(
    community: WebvhLog, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    updated = update_log(community, signing_key=UPDATE, version_time=CREATED + timedelta(hours=1), ttl=60)
    log = _file(tmp_path / "did.jsonl", updated.to_jsonl())

    code, out, _ = _run(
        ["did", "resolve", f"{community.did}?versionNumber=1", "--log", log, "--metadata"],
        capsys,
        monkeypatch,
    )

    result = json.loads(out)
    assert code == 0
    assert result["didDocumentMetadata"]["versionId"] == community.version_id
    assert result["didDocumentMetadata"]["ttl"] == "60"
    assert result["didDocument"]["id"] == community.did


def test_did_resolve_refuses_a_tampered_log_with_the_reason(
    community: WebvhLog, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _file(tmp_path / "did.jsonl", community.to_jsonl().replace("assert-1", "assert-2"))

    code, out, err = _run(["did", "resolve", community.did, "--log", log], capsys, monkeypatch)

    assert code == 1
    assert out == ""
    assert "invalidDid: invalid_scid" in err


def test_did_resolve_notes_a_deactivated_did(
    community: WebvhLog, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deactivated = deactivate_log(community, signing_key=UPDATE, version_time=CREATED + timedelta(hours=1))
    log = _file(tmp_path / "did.jsonl", deactivated.to_jsonl())

    code, out, err = _run(["did", "resolve", community.did, "--log", log], capsys, monkeypatch)

    assert code == 0
    assert json.loads(out)["id"] == community.did
    assert "deactivated" in err


def test_did_resolve_reports_a_missing_log_as_not_found(
    community: WebvhLog, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = _run(
        ["did", "resolve", community.did, "--log", str(tmp_path / "absent")], capsys, monkeypatch
    )

    assert code == 1
    assert "notFound" in err


# --- over HTTP, against a server on the loopback interface ---


class _Files(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read results, not access logs."""


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, bytes]]]:
    files: dict[str, bytes] = {}
    handler = type("Handler", (_Files,), {"files": files})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", files
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_fetch_url_reads_from_a_loopback_server_and_reports_absence(
    server: tuple[str, dict[str, bytes]],
) -> None:
    base, files = server
    files["/.well-known/did.jsonl"] = b"line\n"

    assert did_command.fetch_url(base + "/.well-known/did.jsonl") == b"line\n"
    with pytest.raises(FetchError, match="404"):
        did_command.fetch_url(base + "/absent")


@pytest.mark.parametrize("url", ["http://river.example/did.jsonl", "file:///etc/passwd", "ftp://a.example/x"])
def test_fetch_url_only_uses_https_or_loopback_http(url: str) -> None:
    with pytest.raises(FetchError, match="only https"):
        did_command.fetch_url(url)


def test_fetch_url_refuses_an_oversized_body(
    server: tuple[str, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, files = server
    files["/big"] = b"x" * 100
    monkeypatch.setattr(did_command, "_MAX_BYTES", 10)

    with pytest.raises(FetchError, match="larger"):
        did_command.fetch_url(base + "/big")


def _via_loopback(base: str) -> Any:
    """fetch_url, but with the https://river.example origin sent to the loopback server."""
    real = did_command.fetch_url

    def fetch(url: str) -> bytes:
        parts = urllib.parse.urlsplit(url)
        assert parts.scheme == "https"
        assert parts.hostname == "river.example"
        return real(base + parts.path)

    return fetch


def test_did_resolve_without_a_log_fetches_it_from_the_https_url_of_the_did(
    community: WebvhLog,
    server: tuple[str, dict[str, bytes]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, files = server
    files["/.well-known/did.jsonl"] = community.to_jsonl().encode()
    monkeypatch.setattr(did_command, "fetch_url", _via_loopback(base))

    code, out, err = _run(["did", "resolve", community.did], capsys, monkeypatch)

    assert (code, err) == (0, "")
    assert json.loads(out)["id"] == community.did


# --- cos vc verify ---


def test_vc_verify_accepts_a_community_credential_given_the_did_log(
    community: WebvhLog, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = _file(tmp_path / "vc.json", json.dumps(_credential(community)))
    log = _file(tmp_path / "did.jsonl", community.to_jsonl())

    code, out, err = _run(["vc", "verify", credential, "--did-log", log], capsys, monkeypatch)

    assert (code, err) == (0, "")
    assert out.startswith(f"valid: issued by {community.did}, signed with {community.did}#assert-1")


def test_vc_verify_refuses_a_community_credential_whose_key_was_rotated_out(
    community: WebvhLog, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = _file(tmp_path / "vc.json", json.dumps(_credential(community)))
    rotated = update_log(
        community,
        signing_key=UPDATE,
        version_time=CREATED + timedelta(hours=1),
        document=community_document(community.did, {"assert-2": SigningKey(b"\x05" * 32).public_key}),
    )
    log = _file(tmp_path / "did.jsonl", rotated.to_jsonl())

    code, out, err = _run(["vc", "verify", credential, "--did-log", log], capsys, monkeypatch)

    assert code == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "unknown_verification_method" in err


def test_vc_verify_fetches_the_did_log_when_none_is_given(
    community: WebvhLog,
    server: tuple[str, dict[str, bytes]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, files = server
    files["/.well-known/did.jsonl"] = community.to_jsonl().encode()
    monkeypatch.setattr("cos.commands.vc.fetch_url", _via_loopback(base))
    credential = _file(tmp_path / "vc.json", json.dumps(_credential(community)))

    code, out, _ = _run(["vc", "verify", credential], capsys, monkeypatch)

    assert code == 0
    assert out.startswith("valid")


def _status_list(community: WebvhLog, bits: StatusBitstring) -> str:
    unsigned = status_list_credential(
        list_url=LIST_URL,
        issuer=community.did,
        purpose=StatusPurpose.REVOCATION,
        bitstring=bits,
        valid_from=CREATED,
    )
    return json.dumps(_signed(community, unsigned))


def test_vc_verify_checks_status_against_a_given_status_list(
    community: WebvhLog, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = _file(tmp_path / "vc.json", json.dumps(_credential(community, status=True)))
    log = _file(tmp_path / "did.jsonl", community.to_jsonl())
    clear = _file(tmp_path / "clear.json", _status_list(community, StatusBitstring()))
    revoked = _file(tmp_path / "revoked.json", _status_list(community, StatusBitstring().with_status(9)))
    base = ["vc", "verify", credential, "--did-log", log]

    assert _run([*base, "--status-list", clear], capsys, monkeypatch)[0] == 0
    code, _, err = _run([*base, "--status-list", revoked], capsys, monkeypatch)
    assert code == 1
    assert "[revoked]" in err
    assert _run([*base, "--status-list", revoked, "--no-status"], capsys, monkeypatch)[0] == 0


def test_vc_verify_refuses_a_status_list_file_that_names_no_url(
    community: WebvhLog, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = _file(tmp_path / "vc.json", json.dumps(_credential(community, status=True)))
    nameless = _file(tmp_path / "list.json", json.dumps({"type": ["VerifiableCredential"]}))

    code, _, err = _run(["vc", "verify", credential, "--status-list", nameless], capsys, monkeypatch)

    assert code == 1
    assert "cannot read a status list" in err
