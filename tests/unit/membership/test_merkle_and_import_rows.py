"""RFC 9162 Merkle tree hashing of the roll, and row-by-row validation of an imported sheet."""

from __future__ import annotations

import hashlib

import pytest

from services.membership.domain.merkle import leaf_hash, merkle_root, node_hash
from services.membership.domain.policy import Policy
from services.membership.domain.roll import RollSnapshot
from services.membership.importing import parse_rows
from shared.domain import DomainError


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_the_tree_hash_follows_rfc_9162_for_small_trees() -> None:
    a, b, c = (sha(b"\x00" + d.encode()) for d in ("a", "b", "c"))
    assert merkle_root([]) == sha(b"")
    assert merkle_root(["a"]) == a == leaf_hash("a")
    assert merkle_root(["a", "b"]) == sha(b"\x01" + a + b)
    # n = 3 splits at k = 2: MTH(a, b) on the left, c alone on the right.
    assert merkle_root(["a", "b", "c"]) == node_hash(sha(b"\x01" + a + b), c)
    five = [str(i) for i in range(5)]
    left = merkle_root(five[:4])
    assert merkle_root(five) == node_hash(left, leaf_hash("4"))


def test_a_snapshot_sorts_and_deduplicates_members_before_hashing() -> None:
    roll = RollSnapshot.commit(community="acme", snapshot="s1", members=["did:b", "did:a", "did:b"], at_ns=5)
    assert roll.members == ("did:a", "did:b")
    assert roll.root == merkle_root(["did:a", "did:b"]).hex()
    [event] = roll.collect_events()
    assert (event.originator_id, event.occurred_ns) == ("acme.roll.s1", 5)


def test_a_sheet_without_the_key_columns_or_with_unknown_columns_is_refused() -> None:
    with pytest.raises(DomainError) as no_key:
        parse_rows("name,phone\nBea,1\n", Policy())
    assert no_key.value.code == "invalid_import"
    with pytest.raises(DomainError) as unknown:
        parse_rows("name,email,shoe_size\nBea,b@x.example,41\n", Policy())
    assert "shoe_size" in unknown.value.message


def test_rows_are_keyed_by_email_else_external_id_and_duplicates_inside_a_sheet_are_reported() -> None:
    rows = parse_rows(
        "\ufeffname,email,external_id,did\n"
        "Bea,Bea@X.example,,\n"
        "Cy,,C-1,\n"
        "Dup,bea@x.example,,\n"
        "Bad DID,d@x.example,,did:web:example.com\n",
        Policy(),
    )
    assert [r.key for r in rows[:2]] == ["email:bea@x.example", "external:C-1"]
    assert rows[2].reasons == ["duplicate of row 1 (email)"]
    assert rows[3].reasons == ["did must be a member did:key (z6Mk…)"]


def test_broken_quoting_refuses_the_sheet_at_its_line_instead_of_swallowing_rows() -> None:
    """An unclosed quote would take every later row into one value; the sheet is refused instead,
    naming where the broken row starts, so no row is imported or silently lost."""
    sheet = 'name,email\nAda,ada@x.example\n"Unclosed,quote@x.example\nDup,d@x.example\nExtra,e@x.example\n'
    with pytest.raises(DomainError) as unclosed:
        parse_rows(sheet, Policy())
    assert unclosed.value.code == "invalid_import"
    assert unclosed.value.message.startswith("line 3: a quoted value is never closed")
    with pytest.raises(DomainError) as stray:
        parse_rows('name,email\n"Bea"x,b@x.example\n', Policy())
    assert stray.value.message.startswith("line 2: the quoting is broken")
    # Quoted values over several lines are still read as one value, and the rows after them count.
    rows = parse_rows('name,email\n"Bea\nSmith",b@x.example\nCy,c@x.example\n', Policy())
    assert [r.email for r in rows] == ["b@x.example", "c@x.example"]


def test_a_row_with_more_values_than_columns_says_so() -> None:
    [row] = parse_rows("name,email\nBea,b@x.example,admin,extra\n", Policy())
    assert row.reasons == ["2 more value(s) than the header has columns: 'admin', 'extra'"]
