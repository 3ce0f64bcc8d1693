"""did:webvh identifiers: parsing, and the DID-to-HTTPS mapping a gateway must serve logs at."""

from __future__ import annotations

import json

import pytest

from shared.trust.errors import DidError, DidFailure
from shared.trust.webvh_did import (
    did_log_url,
    did_witness_url,
    parse_webvh_did,
    webvh_did_template,
)

from .vectors import VECTORS

SPEC = json.loads((VECTORS / "didwebvh" / "spec-examples.json").read_text(encoding="utf-8"))["didToHttps"]
SCID = SPEC["scid"]


@pytest.mark.parametrize(("did", "url"), SPEC["examples"], ids=[pair[1] for pair in SPEC["examples"]])
def test_every_spec_example_maps_to_the_url_the_spec_gives(did: str, url: str) -> None:
    assert did_log_url(did.replace("{SCID}", SCID)) == url


def test_the_witness_file_sits_beside_the_log() -> None:
    assert (
        did_witness_url(f"did:webvh:{SCID}:example.com") == "https://example.com/.well-known/did-witness.json"
    )
    assert (
        did_witness_url(f"did:webvh:{SCID}:example.com%3A8443:c:river")
        == "https://example.com:8443/c/river/did-witness.json"
    )


def test_a_lowercase_port_separator_is_read_and_the_host_is_lowercased() -> None:
    parsed = parse_webvh_did(f"did:webvh:{SCID}:Example.COM%3a8080")

    assert (parsed.host, parsed.port) == ("example.com", 8080)
    assert parsed.log_url == "https://example.com:8080/.well-known/did.jsonl"


def test_path_segments_are_decoded_once_and_re_encoded_in_uppercase() -> None:
    parsed = parse_webvh_did(f"did:webvh:{SCID}:example.com:a%20b:%e7%94%a8")

    assert parsed.path == ("a b", "用")
    assert parsed.log_url == "https://example.com/a%20b/%E7%94%A8/did.jsonl"
    assert parsed.directory_url == "https://example.com/a%20b/%E7%94%A8/"


def test_a_template_for_a_new_did_encodes_its_port_and_path() -> None:
    did = webvh_did_template("example.com", port=3000, path=("communities", "river side"))

    assert did == "did:webvh:{SCID}:example.com%3A3000:communities:river%20side"


# The DIDs of the suite's `resolve-did` negative vectors (parser-level attacks), plus more of the same.
SUITE_NEGATIVE_DIDS = [
    "did:webvh:Qm0000000000000000000000000000000000000000000000:127.0.0.1#x",
    "did:webvh:Qm0000000000000000000000000000000000000000000000:127.0.0.1%3a8080",
    "did:webvh:Qm0000000000000000000000000000000000000000000000:example.com:..:..:admin",
    "did:webvh:Qm0000000000000000000000000000000000000000000000:127%2E0%2E0%2E1",
    "did:webvh:Qm0000000000000000000000000000000000000000000000:127%2e0%2e0%2e1",
    "did:webvh:Qm0000000000000000000000000000000000000000000000:169%2E254%2E169%2E254",
    "did:webvh:Qm0000000000000000000000000000000000000000000000:example.com:%2E%2E:admin",
    "did:webvh:Qm0000000000000000000000000000000000000000000000:example.com:%2e%2e:admin",
    "did:webvh:Qm0000000000000000000000000000000000000000000000:example.com:a%2Fb",
]


@pytest.mark.parametrize("did", SUITE_NEGATIVE_DIDS)
def test_the_suite_parser_attacks_are_refused_before_any_fetch(did: str) -> None:
    # The suite's placeholder SCID is itself invalid; with a real SCID the attack must still fail.
    with_real_scid = did.replace("Qm0000000000000000000000000000000000000000000000", SCID)

    for candidate in (did, with_real_scid):
        with pytest.raises(DidError) as caught:
            did_log_url(candidate)
        assert caught.value.reason is DidFailure.INVALID_DID
    assert "SCID" not in str(caught.value)


@pytest.mark.parametrize(
    ("host", "why"),
    [
        (f"{SCID}:127.0.0.1", "IP address"),
        (f"{SCID}:127%2e0%2e0%2e1", "IP address"),
        (f"{SCID}:example.123", "IP address"),
        (f"{SCID}:0x7f.1", "IP address"),
        (f"{SCID}:localhost", "fully qualified"),
        (f"{SCID}:example.com%3A0", "port"),
        (f"{SCID}:example.com%3A70000", "port"),
        (f"{SCID}:example%3A1.com%3A80", "encoded ':'"),
        (f"{SCID}:exa_mple.com", "label"),
        (f"{SCID}:-example.com", "label"),
        (f"{SCID}:example.com:%ZZ", "characters a DID may not"),
        (f"{SCID}:example.com:%FF", "UTF-8"),
        (f"{SCID}:example.com:%00", "NUL"),
        (f"{SCID}:example.com:%20x", "white space"),
        (f"{SCID}:example.com:a%5Cb", "decodes to"),
        (f"{SCID}:example.com::x", "empty"),
        ("Qm123:example.com", "SCID"),
        (f"{SCID[:-1]}0:example.com", "SCID"),
        (SCID, "no domain"),
    ],
)
def test_malformed_dids_are_refused_with_the_reason(host: str, why: str) -> None:
    with pytest.raises(DidError) as caught:
        parse_webvh_did(f"did:webvh:{host}")

    assert caught.value.reason is DidFailure.INVALID_DID
    assert why in str(caught.value)


def test_a_did_url_must_be_split_before_parsing() -> None:
    with pytest.raises(DidError, match="no path, query or fragment"):
        parse_webvh_did(f"did:webvh:{SCID}:example.com?versionId=1-x")


def test_the_scid_placeholder_is_only_accepted_when_creating() -> None:
    with pytest.raises(DidError, match="SCID"):
        parse_webvh_did("did:webvh:{SCID}:example.com")

    assert parse_webvh_did("did:webvh:{SCID}:example.com", allow_placeholder=True).scid == "{SCID}"
