"""DTG credentials: membership grant and acknowledgement, invitation, relationship, authority, delegation."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import base58
import pytest
import rfc8785

from shared.signing import SigningKey
from shared.trust.credentials import issue_credential, sign_credential, verify_credential
from shared.trust.dtg_common import DTG_CONTEXT, check_dtg_credential
from shared.trust.dtg_edges import (
    invitation_credential,
    relationship_credential,
    validate_invitation_credential,
    validate_relationship_credential,
)
from shared.trust.dtg_membership import (
    credential_digest,
    membership_acknowledgement,
    membership_credential,
    validate_membership_acknowledgement,
    validate_membership_credential,
)
from shared.trust.dtg_roles import (
    authority_credential,
    delegation_credential,
    validate_authority_credential,
    validate_delegation_credential,
)
from shared.trust.errors import DtgError, DtgFailure, StatusError, StatusFailure
from shared.trust.fetching import mapping_fetcher
from shared.trust.member_keys import MemberKeys
from shared.trust.resolver import default_resolver
from shared.trust.status_list import StatusBitstring, StatusPurpose, status_list_credential, status_list_entry
from shared.trust.webvh_controller import WebvhLog, community_document, create_log
from shared.trust.webvh_did import did_log_url, webvh_did_template

from .vectors import ZERO_PHRASE

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)
UPDATE, ASSERTION = SigningKey(b"\x01" * 32), SigningKey(b"\x04" * 32)
ADA = MemberKeys.from_phrase(ZERO_PHRASE)
BEN = MemberKeys.from_seed(b"\x07" * 32)
LIST_URL = "https://river.example/status/1"
REVOCATION = status_list_entry(list_url=LIST_URL, index=1234, purpose=StatusPurpose.REVOCATION)


@pytest.fixture(scope="module")
def community() -> WebvhLog:
    template = webvh_did_template("river.example")
    document = community_document(template, {"assert-1": ASSERTION.public_key})
    return create_log(document, signing_key=UPDATE, version_time=START)


def _grant(community: WebvhLog, member: str = ADA.did, **changes: Any) -> dict[str, Any]:
    unsigned = membership_credential(
        community=community.did, member=member, valid_from=START, valid_until=END, status=[REVOCATION]
    )
    return _signed(community, unsigned | changes)


def _signed(community: WebvhLog, unsigned: dict[str, Any]) -> dict[str, Any]:
    method = f"{community.did}#assert-1"
    return sign_credential(unsigned, signing_key=ASSERTION, verification_method=method, created=START)


def _refusal(check: Callable[[], object]) -> DtgFailure:
    with pytest.raises(DtgError) as caught:
        check()
    return caught.value.reason


def test_a_membership_grant_from_the_community_verifies_and_validates(community: WebvhLog) -> None:
    grant = _grant(community)
    status_list = _signed(
        community,
        status_list_credential(
            list_url=LIST_URL,
            issuer=community.did,
            purpose=StatusPurpose.REVOCATION,
            bitstring=StatusBitstring(),
            valid_from=START,
        ),
    )
    served = {did_log_url(community.did): community.to_jsonl().encode()}
    resolver = default_resolver(webvh_fetcher=mapping_fetcher(served), now=NOW)

    verified = verify_credential(
        grant,
        resolver,
        now=NOW,
        status_list_fetcher=mapping_fetcher({LIST_URL: json.dumps(status_list).encode()}),
    )
    accepted = validate_membership_credential(verified.credential, community=community.did)

    assert (accepted.community, accepted.member) == (community.did, ADA.did)
    assert grant["type"] == ["VerifiableCredential", "DTGCredential", "MembershipCredential"]
    assert grant["@context"][1] == DTG_CONTEXT
    assert [entry.index for entry in accepted.status] == [1234]


def test_a_revoked_membership_is_refused_when_verified(community: WebvhLog) -> None:
    revoked = StatusBitstring().with_status(1234)
    status_list = status_list_credential(
        list_url=LIST_URL,
        issuer=community.did,
        purpose=StatusPurpose.REVOCATION,
        bitstring=revoked,
        valid_from=START,
    )
    served = {did_log_url(community.did): community.to_jsonl().encode()}
    lists = {LIST_URL: json.dumps(_signed(community, status_list)).encode()}

    with pytest.raises(StatusError) as caught:
        verify_credential(
            _grant(community),
            default_resolver(webvh_fetcher=mapping_fetcher(served), now=NOW),
            now=NOW,
            status_list_fetcher=mapping_fetcher(lists),
        )

    assert caught.value.reason is StatusFailure.REVOKED


def _without(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda credential: credential.pop(name)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_without("validUntil"), DtgFailure.MISSING_VALID_UNTIL),
        (_without("validFrom"), DtgFailure.MISSING_VALID_FROM),
        (lambda c: c.update(validUntil="2024-12-31T00:00:00Z"), DtgFailure.VALIDITY_INVERTED),
        (_without("credentialStatus"), DtgFailure.MISSING_STATUS),
        (lambda c: c["credentialStatus"][0].update(statusPurpose="suspension"), DtgFailure.MISSING_STATUS),
        (lambda c: c["credentialStatus"][0].update(statusListIndex="x"), DtgFailure.INVALID_STATUS),
        (lambda c: c["credentialSubject"].update(id="did:example:ada"), DtgFailure.SUBJECT_NOT_MEMBER_KEY),
        (lambda c: c["credentialSubject"].update(digestMultibase="zQm"), DtgFailure.UNEXPECTED_DIGEST),
        (lambda c: c["credentialSubject"].pop("id"), DtgFailure.MISSING_SUBJECT),
        (lambda c: c.update({"@context": c["@context"][:1]}), DtgFailure.NOT_DTG_CREDENTIAL),
        (lambda c: c["type"].remove("DTGCredential"), DtgFailure.NOT_DTG_CREDENTIAL),
        (lambda c: c["type"].append("RelationshipCredential"), DtgFailure.WRONG_TYPE),
        (lambda c: c.update(issuer="did:example:other-community"), DtgFailure.WRONG_ISSUER),
    ],
    ids=[
        "no-expiry",
        "no-start",
        "inverted",
        "no-status",
        "not-revocable",
        "bad-status",
        "member-not-did-key",
        "digest-in-grant",
        "no-subject",
        "no-dtg-context",
        "no-dtg-type",
        "two-types",
        "other-community",
    ],
)
def test_a_membership_grant_out_of_profile_is_refused_with_its_reason(
    community: WebvhLog, damage: Any, reason: DtgFailure
) -> None:
    grant = copy.deepcopy(_grant(community))
    damage(grant)

    assert _refusal(lambda: validate_membership_credential(grant, community=community.did)) is reason


def test_personhood_may_be_hinted_beside_membership(community: WebvhLog) -> None:
    grant = _grant(community)
    grant["type"].append("PersonhoodCredential")

    assert validate_membership_credential(grant).member == ADA.did


def test_the_builder_refuses_what_the_validator_would(community: WebvhLog) -> None:
    assert (
        _refusal(lambda: _grant(community, member="https://ada.example")) is DtgFailure.SUBJECT_NOT_MEMBER_KEY
    )


def test_the_digest_is_multibase_base58btc_of_the_sha256_multihash_of_the_jcs(community: WebvhLog) -> None:
    grant = _grant(community)

    digest = credential_digest(grant)

    assert digest.startswith("zQm")
    assert base58.b58decode(digest[1:]) == b"\x12\x20" + hashlib.sha256(rfc8785.dumps(grant)).digest()


def _acknowledged(grant: dict[str, Any], member: MemberKeys = ADA) -> dict[str, Any]:
    return issue_credential(membership_acknowledgement(grant, valid_from=START), member, created=START)


def test_the_member_acknowledges_exactly_the_grant_they_received(community: WebvhLog) -> None:
    grant = _grant(community)
    acknowledgement = _acknowledged(grant)

    verify_credential(acknowledgement, default_resolver(), now=NOW)
    matched = validate_membership_acknowledgement(acknowledgement, grant)

    assert acknowledgement["issuer"] == ADA.did
    assert acknowledgement["credentialSubject"] == {
        "id": community.did,
        "digestMultibase": credential_digest(grant),
    }
    assert acknowledgement["validUntil"] == grant["validUntil"]
    assert matched.grant.member == ADA.did


def test_an_acknowledgement_of_another_grant_or_by_another_member_is_refused(community: WebvhLog) -> None:
    grant = _grant(community)
    renewed = _grant(community, validUntil="2025-12-01T00:00:00Z")
    by_ben = _acknowledged(_grant(community, member=BEN.did), BEN)
    no_digest = copy.deepcopy(_acknowledged(grant))
    no_digest["credentialSubject"].pop("digestMultibase")

    assert _refusal(lambda: validate_membership_acknowledgement(_acknowledged(grant), renewed)) is (
        DtgFailure.DIGEST_MISMATCH
    )
    assert (
        _refusal(lambda: validate_membership_acknowledgement(by_ben, grant))
        is DtgFailure.ACKNOWLEDGEMENT_MISMATCH
    )
    assert (
        _refusal(lambda: validate_membership_acknowledgement(no_digest, grant)) is DtgFailure.MISSING_DIGEST
    )
    assert _refusal(lambda: validate_membership_acknowledgement(grant, grant)) is DtgFailure.MISSING_DIGEST


# --- invitations and relationships ---


def test_an_invitation_names_its_invitee_and_expires(community: WebvhLog) -> None:
    invitation = invitation_credential(
        inviter=ADA.did,
        invitee=BEN.did,
        valid_from=START,
        valid_until=START + timedelta(days=7),
        community=community.did,
        invitee_name="Ben",
    )

    read = validate_invitation_credential(invitation, community=community.did)

    assert (read.inviter, read.invitee, read.invitee_name) == (ADA.did, BEN.did, "Ben")
    assert _refusal(lambda: validate_invitation_credential(invitation, community="did:example:else")) is (
        DtgFailure.WRONG_COMMUNITY
    )


@pytest.mark.parametrize(
    ("invitee", "valid_from", "valid_until", "reason"),
    [
        (ADA.did, START, END, DtgFailure.SELF_REFERENCE),
        (BEN.did, END, START, DtgFailure.VALIDITY_INVERTED),
    ],
    ids=["to-oneself", "ends-before-it-starts"],
)
def test_an_invitation_to_oneself_or_ending_before_it_starts_is_refused(
    invitee: str, valid_from: datetime, valid_until: datetime, reason: DtgFailure
) -> None:
    assert (
        _refusal(
            lambda: invitation_credential(
                inviter=ADA.did, invitee=invitee, valid_from=valid_from, valid_until=valid_until
            )
        )
        is reason
    )


def test_an_invitation_without_expiry_is_refused() -> None:
    unexpiring = invitation_credential(inviter=ADA.did, invitee=BEN.did, valid_from=START, valid_until=END)
    del unexpiring["validUntil"]

    assert _refusal(lambda: validate_invitation_credential(unexpiring)) is DtgFailure.MISSING_VALID_UNTIL


def test_a_relationship_links_two_distinct_members() -> None:
    edge = issue_credential(
        relationship_credential(source=ADA.did, target=BEN.did, valid_from=START), ADA, created=START
    )

    read = validate_relationship_credential(edge)

    assert (read.source, read.target) == (ADA.did, BEN.did)
    assert _refusal(lambda: relationship_credential(source=ADA.did, target=ADA.did, valid_from=START)) is (
        DtgFailure.SELF_REFERENCE
    )
    assert _refusal(lambda: relationship_credential(source=ADA.did, target="mailto:x", valid_from=START)) is (
        DtgFailure.NOT_A_DID
    )
    assert _refusal(lambda: check_dtg_credential(edge, "MembershipCredential")) is DtgFailure.WRONG_TYPE


# --- roles and proxies ---


def test_roles_are_granted_by_the_community_to_a_member(community: WebvhLog) -> None:
    grant = authority_credential(
        community=community.did, member=ADA.did, roles=["moderator"], valid_from=START
    )

    read = validate_authority_credential(
        grant, community=community.did, known_roles={"moderator", "treasurer"}
    )

    assert read.roles == ("moderator",)
    assert grant["credentialSubject"]["authority"] == {"roles": ["moderator"]}
    assert (
        _refusal(lambda: validate_authority_credential(grant, known_roles={"treasurer"}))
        is DtgFailure.UNKNOWN_ROLE
    )
    assert (
        _refusal(lambda: validate_authority_credential(grant, community="did:example:x"))
        is DtgFailure.WRONG_ISSUER
    )


@pytest.mark.parametrize("roles", [[], ["moderator", "moderator"], [""]])
def test_an_authority_credential_needs_distinct_role_names(community: WebvhLog, roles: list[str]) -> None:
    assert (
        _refusal(
            lambda: authority_credential(
                community=community.did, member=ADA.did, roles=roles, valid_from=START
            )
        )
        is DtgFailure.MISSING_ROLES
    )


def test_a_delegation_for_one_poll_covers_that_poll_only(community: WebvhLog) -> None:
    proxy = delegation_credential(
        delegator=ADA.did,
        proxy=BEN.did,
        community=community.did,
        valid_from=START,
        valid_until=END,
        poll="poll-7",
    )

    read = validate_delegation_credential(
        issue_credential(proxy, ADA, created=START), community=community.did
    )

    assert (read.delegator, read.proxy, read.poll) == (ADA.did, BEN.did, "poll-7")
    assert read.covers(poll="poll-7", at=NOW)
    assert not read.covers(poll="poll-8", at=NOW)


def test_a_delegation_for_a_period_covers_any_poll_within_it(community: WebvhLog) -> None:
    period = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    proxy = delegation_credential(
        delegator=ADA.did,
        proxy=BEN.did,
        community=community.did,
        valid_from=START,
        valid_until=END,
        period=period,
    )

    read = validate_delegation_credential(proxy)

    assert read.covers(poll="any", at=datetime(2025, 3, 15, tzinfo=UTC))
    assert not read.covers(poll="any", at=datetime(2025, 4, 1, tzinfo=UTC))


def _delegation(community: WebvhLog, **changes: Any) -> dict[str, Any]:
    return (
        delegation_credential(
            delegator=ADA.did,
            proxy=BEN.did,
            community=community.did,
            valid_from=START,
            valid_until=END,
            poll="p",
        )
        | changes
    )


def _scope(scope: Any) -> Callable[[dict[str, Any]], None]:
    return lambda credential: credential["credentialSubject"]["delegation"].update(scope=scope)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_scope({}), DtgFailure.MISSING_SCOPE),
        (_scope({"poll": "p", "from": "2025-02-01T00:00:00Z"}), DtgFailure.INVALID_SCOPE),
        (_scope({"from": "2025-03-01T00:00:00Z", "until": "2025-02-01T00:00:00Z"}), DtgFailure.INVALID_SCOPE),
        (
            _scope({"from": "2025-03-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"}),
            DtgFailure.SCOPE_OUTLIVES_CREDENTIAL,
        ),
        (_scope({"from": "March", "until": "April"}), DtgFailure.INVALID_SCOPE),
        (lambda c: c["credentialSubject"].update(id=ADA.did), DtgFailure.SELF_REFERENCE),
        (lambda c: c["credentialSubject"].update(id="did:example:ben"), DtgFailure.SUBJECT_NOT_MEMBER_KEY),
        (lambda c: c.update(issuer="did:example:ada"), DtgFailure.ISSUER_NOT_MEMBER_KEY),
        (
            lambda c: c["credentialSubject"]["delegation"].update(community="did:example:x"),
            DtgFailure.WRONG_COMMUNITY,
        ),
        (lambda c: c["credentialSubject"].pop("delegation"), DtgFailure.WRONG_COMMUNITY),
        (lambda c: c.pop("validUntil"), DtgFailure.MISSING_VALID_UNTIL),
    ],
    ids=[
        "no-scope",
        "two-scopes",
        "inverted-period",
        "outlives",
        "not-dates",
        "to-self",
        "proxy-not-member",
        "delegator-not-member",
        "other-community",
        "no-delegation",
        "no-expiry",
    ],
)
def test_a_delegation_out_of_profile_is_refused_with_its_reason(
    community: WebvhLog, damage: Any, reason: DtgFailure
) -> None:
    proxy = copy.deepcopy(_delegation(community))
    damage(proxy)

    assert _refusal(lambda: validate_delegation_credential(proxy, community=community.did)) is reason
