"""CSV and JSON export of a community's directory (the same columns the import reads, plus status)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

COLUMNS = ("name", "email", "external_id", "did", "type", "roles", "tags", "status", "standing", "expires_ns")


def to_json(entries: list[dict[str, Any]]) -> str:
    return json.dumps(entries, sort_keys=True, indent=1)


def to_csv(entries: list[dict[str, Any]], profile_fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, *profile_fields])
    for entry in entries:
        writer.writerow(
            _safe(value)
            for value in [
                entry["name"],
                entry["email"],
                entry["external_id"],
                entry["did"],
                entry["membership_type"],
                ";".join(entry["roles"]),
                ";".join(entry["tags"]),
                entry["status"],
                entry["standing"],
                entry["expires_ns"],
                *[entry["profile"].get(name, "") for name in profile_fields],
            ]
        )
    return out.getvalue()


def _safe(value: object) -> object:
    # A cell starting with = + - @ is a formula to a spreadsheet: keep it text (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
