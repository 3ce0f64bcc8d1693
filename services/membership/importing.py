"""CSV import of an existing member spreadsheet: every row checked and reported with its reasons.

Columns: `name`, `email`, `external_id`, `did`, `type`, `roles` and `tags` (`;`-separated), and
one column per profile field the community defines. A row is keyed by its email, else its
external id, so importing the same sheet again changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from services.membership.domain.member_key import email_key, external_key
from services.membership.domain.policy import Policy
from shared.domain import DomainError

MAX_ROWS = 5000
KNOWN_COLUMNS = ("name", "email", "external_id", "did", "type", "roles", "tags")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DID_KEY = re.compile(r"^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{40,60}$")


@dataclass
class ImportRow:
    row: int  # 1-based data row; the header is row 0
    name: str = ""
    email: str = ""
    external_id: str = ""
    did: str = ""
    membership_type: str = ""
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    profile: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return email_key(self.email) if self.email else external_key(self.external_id)

    @property
    def keys(self) -> list[str]:
        keys = [email_key(self.email)] if self.email else []
        if self.external_id:
            keys.append(external_key(self.external_id))
        if self.did:
            keys.append(self.did)
        return keys


def parse_rows(text: str, policy: Policy) -> list[ImportRow]:
    """Rows with their reasons for refusal (empty when valid); a file that is not a sheet is refused."""
    # Strict quoting: an unclosed quote would otherwise swallow every row after it into one value.
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    try:
        header = reader.fieldnames
    except csv.Error as exc:
        raise DomainError("invalid_import", f"line 1: {_csv_problem(exc)}; nothing was imported") from exc
    columns = [c.strip() for c in header or []]
    if "name" not in columns or not {"email", "external_id"} & set(columns):
        raise DomainError("invalid_import", "the sheet needs a header with name and email or external_id")
    fields = {f.name for f in policy.profile_fields}
    unknown = [c for c in columns if c not in KNOWN_COLUMNS and c not in fields]
    if unknown:
        raise DomainError(
            "invalid_import", f"unknown column {unknown[0]!r}; profile fields: {sorted(fields)}"
        )
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(_records(reader), start=1):
        if number > MAX_ROWS:
            raise DomainError("invalid_import", f"an import holds at most {MAX_ROWS} rows")
        values = {k.strip(): (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        row = _row(number, values, policy, fields)
        extra = raw.get(None)  # type: ignore[call-overload]
        if extra:
            row.reasons.append(
                f"{len(extra)} more value(s) than the header has columns: {', '.join(map(repr, extra[:3]))}"
            )
        if not row.reasons:
            for key in row.keys:
                if key in seen:
                    row.reasons.append(f"duplicate of row {seen[key]} ({key.split(':', 1)[0]})")
                    break
            else:
                seen.update(dict.fromkeys(row.keys, number))
        rows.append(row)
    return rows


def _records(reader: csv.DictReader[str]) -> Iterator[dict[str, Any]]:
    """The sheet's records; a quoting error refuses the whole sheet, naming the line it starts on."""
    records = iter(reader)
    while True:
        starts = reader.line_num + 1
        try:
            record = next(records)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DomainError(
                "invalid_import", f"line {starts}: {_csv_problem(exc)}; nothing was imported"
            ) from exc
        yield record


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return 'a quoted value is never closed (a missing ")'
    return f"the quoting is broken ({text})"


def _row(number: int, values: dict[str, str], policy: Policy, fields: set[str]) -> ImportRow:
    row = ImportRow(
        number,
        name=values.get("name", ""),
        email=values.get("email", "").lower(),
        external_id=values.get("external_id", ""),
        did=values.get("did", ""),
        membership_type=values.get("type", ""),
        roles=tuple(r.strip() for r in values.get("roles", "").split(";") if r.strip()),
        tags=tuple(t.strip() for t in values.get("tags", "").split(";") if t.strip()),
        profile={k: v for k, v in values.items() if k in fields and v},
    )
    if not 1 <= len(row.name) <= 120:
        row.reasons.append("name is required (1-120 characters)")
    if not row.email and not row.external_id:
        row.reasons.append("email or external_id is required")
    if row.email and not _EMAIL.match(row.email):
        row.reasons.append(f"email {row.email!r} is not an address")
    if row.did and not _DID_KEY.match(row.did):
        row.reasons.append("did must be a member did:key (z6Mk…)")
    for check in (
        lambda: policy.membership_type(row.membership_type or None),
        lambda: policy.check_roles(row.roles),
        lambda: policy.check_profile(row.profile, complete=True),
    ):
        try:
            check()
        except DomainError as exc:
            row.reasons.append(exc.message)
    return row
