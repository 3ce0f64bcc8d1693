"""Membership at the service layer: spreadsheet import (report, dry run, re-import) and export."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from services.membership.domain.commands import DirectoryQuery, ImportMembers
from services.membership.domain.policy import Policy, ProfileField
from shared.domain import DomainError

from .test_membership_support import community_with_admin, person, service, signed

SHEET = """name,email,external_id,type,roles,tags,city
Bea Lind,bea@river.example,M-001,standard,,board;founder,Ghent
Cy Moss,CY@river.example,M-002,,moderator,,Antwerp
,nobody@river.example,M-003,,,,Ghent
Di Park,not-an-email,M-004,,,,Ghent
Ed Ray,ed@river.example,M-005,gold,,,Ghent
Fa Lo,bea@river.example,M-006,,,,Ghent
Gus,,M-007,,king,,Ghent
Hu,hu@river.example,,,,,
"""
POLICY = Policy(profile_fields=(ProfileField("city", "City", required=True),))


def importing(admin: object, community: str, sheet: str, **body: object) -> ImportMembers:
    digest = hashlib.sha256(sheet.encode()).hexdigest()
    command = signed(admin, "import_members", community, {"csv_sha256": digest, **body})  # type: ignore[arg-type]
    return ImportMembers(community=community, statement=command.statement, csv=sheet)


async def test_a_dry_run_reports_every_row_with_its_reasons_and_records_nothing() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers, POLICY)
    report = await handlers.import_members(importing(admin, community, SHEET))
    statuses = {row["row"]: (row["status"], row["reasons"]) for row in report["rows"]}
    assert statuses[1] == ("valid", [])
    assert statuses[2] == ("valid", [])
    assert statuses[3][0] == "invalid"
    assert "name is required" in statuses[3][1][0]
    assert "is not an address" in statuses[4][1][0]
    assert "no membership type 'gold'" in statuses[5][1][0]
    assert statuses[6][1] == ["duplicate of row 1 (email)"]
    assert "no role king" in statuses[7][1][0]
    assert "'city' is required" in statuses[8][1][0]
    assert (report["valid"], report["invalid"], report["imported"]) == (2, 6, 0)
    assert (await handlers.directory_search(DirectoryQuery(community, status="invited")))["count"] == 0


async def test_broken_rows_stop_an_import_unless_asked_and_a_reimport_changes_nothing() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers, POLICY)
    with pytest.raises(DomainError) as broken:
        await handlers.import_members(importing(admin, community, SHEET, dry_run=False))
    assert broken.value.code == "import_has_broken_rows"
    assert "row 3: name is required" in broken.value.message
    assert (await handlers.directory_search(DirectoryQuery(community, status="invited")))["count"] == 0

    done = await handlers.import_members(importing(admin, community, SHEET, dry_run=False, import_valid=True))
    assert done["imported"] == 2
    invited = [row for row in done["rows"] if row["status"] == "invited"]
    assert [row["name"] for row in invited] == ["Bea Lind", "Cy Moss"]
    assert all(len(row["code"]) > 20 for row in invited)  # the invitation each person receives

    again = await handlers.import_members(
        importing(admin, community, SHEET, dry_run=False, import_valid=True)
    )
    assert (again["imported"], again["already_members"]) == (0, 2)
    found = await handlers.directory_search(DirectoryQuery(community, status="invited"))
    assert [(m["name"], m["email"], m["external_id"]) for m in found["members"]] == [
        ("Bea Lind", "bea@river.example", "M-001"),
        ("Cy Moss", "cy@river.example", "M-002"),
    ]

    bea = person()
    joined = await handlers.apply(
        signed(
            bea,
            "apply",
            community,
            {"invitation": {"email": "bea@river.example", "code": invited[0]["code"]}},
        )
    )
    assert (joined["status"], joined["tags"]) == ("active", ["board", "founder"])


async def test_an_import_by_a_non_admin_or_of_another_sheet_is_refused() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers, POLICY)
    with pytest.raises(DomainError) as stranger:
        await handlers.import_members(importing(person(), community, SHEET))
    assert stranger.value.code == "not_an_admin"
    swapped = importing(admin, community, SHEET)
    swapped.csv = SHEET.replace("Bea Lind", "Mallory")
    with pytest.raises(DomainError) as mismatch:
        await handlers.import_members(swapped)
    assert mismatch.value.code == "csv_mismatch"


async def test_the_roster_exports_as_csv_and_json() -> None:
    handlers, _ = service()
    community, admin = await community_with_admin(handlers, POLICY)
    sheet = "name,email,city\n=HYPERLINK(1),eve@river.example,Ghent\n"
    await handlers.import_members(importing(admin, community, sheet, dry_run=False))
    as_csv = await handlers.export_members(signed(admin, "export_members", community, {"format": "csv"}))
    rows = list(csv.DictReader(io.StringIO(as_csv["content"])))
    assert as_csv["count"] == 2
    eve = next(r for r in rows if r["email"] == "eve@river.example")
    assert (eve["name"], eve["city"], eve["status"]) == ("'=HYPERLINK(1)", "Ghent", "invited")
    as_json = await handlers.export_members(signed(admin, "export_members", community, {"format": "json"}))
    assert {m["did"] for m in json.loads(as_json["content"])} == {admin.did, ""}
    with pytest.raises(DomainError):
        await handlers.export_members(signed(person(), "export_members", community, {"format": "json"}))
