"""did:webvh through the resolver registry: logs read by an injected fetcher, credentials verified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.signing import SigningKey
from shared.trust.credentials import VC_V2_CONTEXT, sign_credential, verify_credential
from shared.trust.errors import (
    CredentialError,
    CredentialFailure,
    DidError,
    DidFailure,
    ProofError,
    ProofFailure,
    WebvhError,
    WebvhFailure,
)
from shared.trust.fetching import FetchError, mapping_fetcher
from shared.trust.resolver import default_resolver
from shared.trust.webvh_controller import WebvhLog, community_document, create_log, deactivate_log, update_log
from shared.trust.webvh_did import did_log_url, webvh_did_template
from shared.trust.webvh_resolver import WebvhResolver

UPDATE, ASSERTION, NEW_ASSERTION = (SigningKey(bytes([seed]) * 32) for seed in (1, 4, 5))
CREATED = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def log() -> WebvhLog:
    template = webvh_did_template("river.example")
    return create_log(
        community_document(template, {"assert-1": ASSERTION.public_key}),
        signing_key=UPDATE,
        version_time=CREATED,
    )


def _served(log: WebvhLog) -> dict[str, bytes]:
    return {did_log_url(log.did): log.to_jsonl().encode()}


def _credential(issuer: str) -> dict[str, Any]:
    unsigned = {
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ada"},
    }
    return sign_credential(
        unsigned, signing_key=ASSERTION, verification_method=f"{issuer}#assert-1", created=CREATED
    )


def test_the_resolver_reads_the_log_at_the_url_the_did_maps_to(log: WebvhLog) -> None:
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        return log.to_jsonl().encode()

    document = WebvhResolver(fetch, now=NOW).resolve(log.did)

    assert document["id"] == log.did
    assert asked == ["https://river.example/.well-known/did.jsonl"]


def test_a_credential_issued_by_a_community_did_verifies_through_the_default_resolver(log: WebvhLog) -> None:
    resolver = default_resolver(webvh_fetcher=mapping_fetcher(_served(log)), now=NOW)

    verified = verify_credential(_credential(log.did), resolver, now=NOW)

    assert verified.issuer == log.did
    assert verified.verification_method == f"{log.did}#assert-1"


def test_a_key_removed_in_a_later_version_no_longer_verifies(log: WebvhLog) -> None:
    credential = _credential(log.did)
    rotated = update_log(
        log,
        signing_key=UPDATE,
        version_time=CREATED + timedelta(days=1),
        document=community_document(log.did, {"assert-2": NEW_ASSERTION.public_key}),
    )
    resolver = default_resolver(webvh_fetcher=mapping_fetcher(_served(rotated)), now=NOW)

    with pytest.raises(ProofError) as caught:
        verify_credential(credential, resolver, now=NOW)

    assert caught.value.reason is ProofFailure.UNKNOWN_VERIFICATION_METHOD


def test_a_deactivated_community_did_verifies_nothing(log: WebvhLog) -> None:
    deactivated = deactivate_log(log, signing_key=UPDATE, version_time=CREATED + timedelta(days=1))
    fetcher = mapping_fetcher(_served(deactivated))

    with pytest.raises(DidError) as resolving:
        WebvhResolver(fetcher, now=NOW).resolve(log.did)
    with pytest.raises(ProofError) as verifying:
        verify_credential(_credential(log.did), default_resolver(webvh_fetcher=fetcher, now=NOW), now=NOW)

    assert resolving.value.reason is DidFailure.DEACTIVATED
    assert verifying.value.reason is ProofFailure.UNRESOLVABLE_VERIFICATION_METHOD


def test_a_log_that_cannot_be_fetched_is_not_found(log: WebvhLog) -> None:
    resolver = WebvhResolver(mapping_fetcher({}), now=NOW)

    with pytest.raises(WebvhError) as full:
        resolver.resolve_url(log.did)
    with pytest.raises(DidError) as plain:
        resolver.resolve(log.did)

    assert full.value.reason is WebvhFailure.NOT_FOUND
    assert plain.value.reason is DidFailure.NOT_FOUND


def test_a_tampered_log_refuses_resolution_with_the_webvh_reason_in_the_message(log: WebvhLog) -> None:
    text = log.to_jsonl().replace("assert-1", "assert-9")
    resolver = WebvhResolver(mapping_fetcher({did_log_url(log.did): text.encode()}), now=NOW)

    with pytest.raises(DidError) as caught:
        resolver.resolve(log.did)

    assert caught.value.reason is DidFailure.INVALID_DID
    assert "invalid_scid" in str(caught.value)


def test_the_fetcher_raising_oserror_counts_as_not_found(log: WebvhLog) -> None:
    def broken(url: str) -> bytes:
        raise ConnectionRefusedError(url)

    with pytest.raises(WebvhError) as caught:
        WebvhResolver(broken, now=NOW).resolve_url(log.did)

    assert caught.value.reason is WebvhFailure.NOT_FOUND


def test_did_webvh_needs_a_fetcher_and_an_instant() -> None:
    with pytest.raises(DidError) as caught:
        default_resolver().resolve("did:webvh:QmdmPkUdYzbr9txmx8gM2rsHPgr5L6m3gHjJGAf4vUFoGE:example.com")
    with pytest.raises(ValueError, match="now"):
        default_resolver(webvh_fetcher=mapping_fetcher({}))

    assert caught.value.reason is DidFailure.METHOD_NOT_SUPPORTED


def test_signing_for_another_issuer_or_twice_is_refused(log: WebvhLog) -> None:
    signed = _credential(log.did)
    unsigned = {name: value for name, value in signed.items() if name != "proof"}
    options: dict[str, Any] = {
        "signing_key": ASSERTION,
        "verification_method": f"{log.did}#assert-1",
        "created": CREATED,
    }

    with pytest.raises(CredentialError) as other:
        sign_credential(unsigned | {"issuer": "did:example:other"}, **options)
    with pytest.raises(CredentialError) as twice:
        sign_credential(signed, **options)

    assert other.value.reason is CredentialFailure.ISSUER_MISMATCH
    assert twice.value.reason is CredentialFailure.ALREADY_SIGNED


def test_mapping_fetcher_refuses_unknown_urls() -> None:
    with pytest.raises(FetchError):
        mapping_fetcher({"https://a.example/x": b"1"})("https://a.example/y")
