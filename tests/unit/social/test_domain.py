"""Pure social domain: given events, when a command, then events (or a typed refusal)."""

from __future__ import annotations

import pytest

from services.social.domain.events import IntroductionConnected, VaultItemStored
from services.social.domain.feed import FeedDefinition, FeedRules, Follow, Trust
from services.social.domain.introduction import Introduction
from services.social.domain.post_document import normalize_hashtag, read_post, unsigned_post
from services.social.domain.relationship import Relationship, relationship_id
from services.social.domain.vault import VaultItem
from shared.domain import DomainError

ADA, BEA, CAL = "did:key:z6Mkada", "did:key:z6Mkbea", "did:key:z6Mkcal"
ST: dict[str, object] = {"type": "CommunityStatement"}
REL: dict[str, object] = {"type": ["RelationshipCredential"]}


def proposed() -> Introduction:
    return Introduction.propose(
        "acme", "i1", introducer=ADA, first=BEA, second=CAL, note="", statement=ST, now=1
    )


def test_an_introduction_connects_only_after_both_consent_and_records_each_credential() -> None:
    intro = proposed()
    intro.answer(BEA, True, "", ST, 2, REL)
    with pytest.raises(DomainError) as early:
        intro.connect("chat", 3)
    assert early.value.code == "introduction_not_consented"
    intro.answer(CAL, True, "", ST, 3, REL)
    intro.connect("", 4)
    connected = intro.collect_events()[-1]
    assert isinstance(connected, IntroductionConnected)
    assert (connected.chat_status, intro.status, set(intro.relationships)) == (
        "pending",
        "connected",
        {BEA, CAL},
    )
    replayed = Introduction.replay(None, [*proposed().collect_events()])
    assert replayed is not None
    assert replayed.status == "proposed"


def test_consent_without_a_relationship_credential_and_a_second_answer_are_refused() -> None:
    intro = proposed()
    with pytest.raises(DomainError) as bare:
        intro.answer(BEA, True, "", ST, 2)
    assert bare.value.code == "relationship_required"
    intro.answer(BEA, False, "busy", ST, 2)
    with pytest.raises(DomainError) as closed:
        intro.answer(CAL, True, "", ST, 3, REL)
    assert (closed.value.code, intro.status) == ("introduction_closed", "declined")


def test_an_introducer_cannot_introduce_herself_or_one_person_twice() -> None:
    with pytest.raises(DomainError) as refused:
        Introduction.propose(
            "acme", "i2", introducer=ADA, first=ADA, second=BEA, note="", statement=ST, now=1
        )
    assert refused.value.code == "invalid_introduction"
    with pytest.raises(DomainError) as same:
        Introduction.propose(
            "acme", "i3", introducer=ADA, first=BEA, second=BEA, note="", statement=ST, now=1
        )
    assert same.value.code == "invalid_introduction"


def test_a_relationship_is_mutual_once_both_directions_are_recorded_and_stays_between_its_two() -> None:
    edge = Relationship(relationship_id("acme", BEA, CAL))
    assert relationship_id("acme", BEA, CAL) == relationship_id("acme", CAL, BEA)
    edge.record(BEA, CAL, REL, 1)
    assert not edge.mutual
    edge.record(BEA, CAL, REL, 2)  # the same credential again records nothing
    edge.record(CAL, BEA, REL, 3)
    assert (edge.mutual, edge.version) == (True, 2)
    with pytest.raises(DomainError):
        edge.record(ADA, BEA, REL, 4)


def test_vault_versions_advance_only_from_the_version_the_writer_saw() -> None:
    item = VaultItem("acme.vault.x")
    fields = {"ciphertext": "AAAA", "nonce": "n", "sha256": "0" * 64, "size": 3, "statement": ST}
    assert item.store(ADA, "ab" * 24, expected_version=0, now=1, **fields) == 1  # type: ignore[arg-type]
    with pytest.raises(DomainError) as stale:
        item.store(ADA, "ab" * 24, expected_version=0, now=2, **fields)  # type: ignore[arg-type]
    assert stale.value.code == "vault_version_conflict"
    with pytest.raises(DomainError) as hers:
        item.store(BEA, "ab" * 24, expected_version=1, now=2, **fields)  # type: ignore[arg-type]
    assert hers.value.code == "not_your_vault"
    with pytest.raises(DomainError) as bad_id:
        VaultItem("acme.vault.y").store(ADA, "NOT-HEX", expected_version=0, now=1, **fields)  # type: ignore[arg-type]
    assert bad_id.value.code == "invalid_vault_item"
    assert [type(e) for e in item.collect_events()] == [VaultItemStored]


def test_feed_rules_import_a_definition_and_export_the_same_one() -> None:
    rules = FeedRules.new("acme", ADA)
    shared = FeedDefinition(
        name="Regen", follows=(Follow(BEA, ("#Regenerative",)),), trust=Trust(2)
    ).checked()
    rules.configure(shared, ST, 1, replace_follows=True)
    assert rules.definition() == shared
    assert rules.follows == {BEA: ("regenerative",)}
    with pytest.raises(DomainError) as self_follow:
        rules.follow(ADA, (), ST, 2)
    assert self_follow.value.code == "cannot_follow_self"
    with pytest.raises(DomainError) as too_far:
        FeedDefinition(trust=Trust(7)).checked()
    assert too_far.value.code == "invalid_feed"


def test_hashtags_are_normalized_and_post_documents_must_say_what_the_statement_claims() -> None:
    assert normalize_hashtag("#Régénératif") == "régénératif"
    with pytest.raises(DomainError):
        normalize_hashtag("two words")
    document = unsigned_post(
        author=ADA,
        community="acme",
        post="p1",
        headline=" Soil ",
        body="x",
        hashtags=["Soil"],
        published="2026",
    )
    content = read_post(document, community="acme", post="p1", author=ADA)
    assert (content.headline, content.hashtags) == ("Soil", ("soil",))
    with pytest.raises(DomainError) as other_post:
        read_post(document, community="acme", post="p2", author=ADA)
    assert other_post.value.code == "invalid_post"
