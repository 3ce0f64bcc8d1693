"""Access rules and the library's aggregates, without I/O: given events, when a command, then events."""

from __future__ import annotations

import pytest

from services.knowledge.domain.access import AccessRule, CategoryRoles, Viewer, allows
from services.knowledge.domain.document import Content, Document
from services.knowledge.domain.events import (
    DocumentAdded,
    DocumentDeleted,
    DocumentRevised,
    LibraryConfigured,
)
from services.knowledge.domain.library import Library
from shared.domain import DomainError

MEMBER = Viewer("did:key:zBea", "active", frozenset({"member"}))
BOARD = Viewer("did:key:zCem", "active", frozenset({"member", "board"}), membership_type="household")
ADMIN = Viewer("did:key:zAda", "active", frozenset({"member", "admin"}))
SUSPENDED_ADMIN = Viewer("did:key:zDia", "suspended", frozenset({"admin"}))
GRACE = Viewer("did:key:zEli", "in_grace", frozenset({"member"}), tags=frozenset({"north"}))


def test_a_rule_allows_members_in_good_standing_who_match_every_non_empty_list() -> None:
    categories = CategoryRoles({"open": (), "board-room": ("board",)})
    everyone, board_only = AccessRule.everyone(), AccessRule.for_roles(["board"])
    households_north = AccessRule(types=("household",), tags=("north",))
    assert [allows(everyone, v, categories) for v in (MEMBER, GRACE, SUSPENDED_ADMIN)] == [True, True, False]
    assert [allows(board_only, v, categories) for v in (MEMBER, BOARD, ADMIN)] == [False, True, True]
    assert not allows(households_north, BOARD, categories)  # household, but not tagged north
    assert not allows(households_north, GRACE, categories)  # tagged north, but not a household
    assert allows(AccessRule.for_category("open"), MEMBER, categories)
    assert not allows(AccessRule.for_category("board-room"), MEMBER, categories)
    assert not allows(AccessRule.for_category("never-configured"), MEMBER, categories)
    # Category read roles bind admins too, as in messaging; audiences and documents do not.
    assert not allows(AccessRule.for_category("board-room"), ADMIN, categories)
    assert allows(AccessRule.for_category("board-room"), BOARD, categories)


def test_rule_keys_are_stable_whatever_the_order_of_roles() -> None:
    assert (
        AccessRule.for_roles(["b", "a", "a"]).key == AccessRule.for_roles(["a", "b"]).key == "audience:a,b||"
    )
    assert AccessRule.everyone().key == "members"
    assert AccessRule.for_category("x").key == "category:x"


def content(text: str = "Dues are 40 euros.", title: str = "Dues") -> Content:
    return Content(title, "dues.md", "text/markdown", len(text), "ab" * 32, text, ())


def test_only_admins_configure_the_library_and_uploaders_need_a_listed_role() -> None:
    library = Library("c.library.settings")
    assert not library.may_upload(MEMBER)
    assert library.may_upload(ADMIN)
    with pytest.raises(DomainError) as refused:
        library.configure(MEMBER, ["member"], 1, None)
    assert refused.value.code == "not_an_admin"
    library.configure(ADMIN, [" member ", "member", ""], 2, None)
    (event,) = library.collect_events()
    assert isinstance(event, LibraryConfigured)
    assert event.uploader_roles == ("member",)
    assert library.may_upload(MEMBER)
    assert not library.may_upload(SUSPENDED_ADMIN)


def test_a_document_is_added_once_and_changed_only_by_its_author_or_an_admin() -> None:
    document = Document("c.document.d1")
    document.add(MEMBER, content(), 1, None)
    with pytest.raises(DomainError) as twice:
        document.add(MEMBER, content(), 2, None)
    assert twice.value.code == "document_exists"
    with pytest.raises(DomainError) as not_author:
        document.revise(BOARD, content("Dues are 45 euros."), 3, None)
    assert (not_author.value.code, not_author.value.status) == ("not_the_author", 403)
    with pytest.raises(DomainError) as unchanged:
        document.revise(MEMBER, content(), 3, None)
    assert unchanged.value.code == "unchanged"
    document.revise(MEMBER, Content("Dues", "d.md", "text/markdown", 3, "cd" * 32, "45 euros", ()), 4, None)
    document.delete(ADMIN, "outdated", 5, None)
    kinds = [type(e) for e in document.collect_events()]
    assert kinds == [DocumentAdded, DocumentRevised, DocumentDeleted]
    with pytest.raises(DomainError) as gone:
        document.delete(ADMIN, "again", 6, None)
    assert (gone.value.code, gone.value.status) == ("unknown_document", 404)
    rebuilt = Document.replay(None, [])
    assert rebuilt is None


def test_a_document_needs_a_title_and_some_text() -> None:
    with pytest.raises(DomainError) as untitled:
        Document("c.document.d2").add(MEMBER, content(title="  "), 1, None)
    assert untitled.value.code == "invalid_request"
    with pytest.raises(DomainError) as empty:
        Document("c.document.d3").add(MEMBER, content(text=" \n "), 1, None)
    assert empty.value.code == "empty_document"
