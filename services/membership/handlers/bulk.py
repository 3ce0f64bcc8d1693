"""Import of a member spreadsheet (report, dry run, idempotent, invites) and CSV/JSON export."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from services.membership.domain.commands import ExportBody, ImportBody, ImportMembers, Signed
from services.membership.domain.community import Community
from services.membership.domain.member import Member, member_id
from services.membership.domain.member_key import MemberKey
from services.membership.exporting import to_csv, to_json
from services.membership.handlers.base import HandlerBase
from services.membership.handlers.lifecycle import new_code
from services.membership.importing import ImportRow, parse_rows
from shared.domain import DomainError

CHUNK = 50  # rows per atomic save; a re-run after a failure skips what was saved (keyed rows)


class BulkHandlers(HandlerBase):
    async def import_members(self, command: ImportMembers) -> dict[str, Any]:
        statement = await self.verified(command, "import_members")
        body = self.body(statement, ImportBody)
        digest = hashlib.sha256(command.csv.encode()).hexdigest()
        if not hmac.compare_digest(digest, body.csv_sha256.lower()):
            raise DomainError("csv_mismatch", "the sheet is not the one the admin signed (csv_sha256)")
        now = self.clock()
        community = await self.run(self.acting_admin, statement, now)
        rows = parse_rows(command.csv, community.policy)
        report = await self.run(self.classify, community.slug, rows)
        broken = [r for r in report if r["status"] == "invalid"]
        fresh = [(row, r) for row, r in zip(rows, report, strict=True) if r["status"] == "valid"]
        summary = {
            "dry_run": body.dry_run,
            "rows": report,
            "valid": len(fresh),
            "invalid": len(broken),
            "already_members": sum(r["status"] == "already_member" for r in report),
            "imported": 0,
        }
        if body.dry_run:
            return summary
        if broken and not body.import_valid:
            listed = "; ".join(f"row {r['row']}: {', '.join(r['reasons'])}" for r in broken[:20])
            raise DomainError(
                "import_has_broken_rows",
                f"{len(broken)} rows are broken and nothing was imported ({listed}); fix them, or import "
                "the valid rows with import_valid",
            )
        for start in range(0, len(fresh), CHUNK):
            aggregates: list[Any] = []
            for row, entry in fresh[start : start + CHUNK]:
                member, claims, code = self.imported(community, row, statement.actor, statement.document, now)
                aggregates += [member, *claims]
                entry.update(status="invited", member=member.id.rsplit(".", 1)[-1], code=code)
            await self.save(*aggregates)
            summary["imported"] = int(summary["imported"]) + sum(isinstance(a, Member) for a in aggregates)
        return summary

    def classify(self, community: str, rows: list[ImportRow]) -> list[dict[str, Any]]:
        report: list[dict[str, Any]] = []
        for row in rows:
            entry: dict[str, Any] = {"row": row.row, "name": row.name, "key": row.key, "reasons": row.reasons}
            if row.reasons:
                entry["status"] = "invalid"
            else:
                known = [m for m in (self.app.member_by_key(community, k) for k in row.keys) if m is not None]
                if not known:
                    entry["status"] = "valid"
                elif (
                    len({m.id for m in known}) == 1 and self.app.member_by_key(community, row.key) is not None
                ):
                    entry.update(status="already_member", member=known[0].id.rsplit(".", 1)[-1])
                else:
                    entry.update(
                        status="invalid", reasons=["its email, external id or DID belongs to another member"]
                    )
            report.append(entry)
        return report

    @staticmethod
    def imported(
        community: Community, row: ImportRow, by: str, statement: dict[str, Any], now: int
    ) -> tuple[Member, list[MemberKey], str]:
        policy = community.policy
        code, code_hash = new_code()
        member = Member.invite(
            member_id(community.slug, row.key),
            name=row.name,
            email=row.email,
            external_id=row.external_id,
            did=row.did,
            membership_type=policy.membership_type(row.membership_type or None).name,
            roles=policy.check_roles(row.roles),
            tags=row.tags,
            profile=row.profile,
            code_hash=code_hash,
            source="import",
            by=by,
            statement=statement,
            now=now,
        )
        return member, [MemberKey.claim(community.slug, key, member.id, now) for key in row.keys], code

    async def export_members(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "export_members")
        body = self.body(statement, ExportBody)
        now = self.clock()
        community = await self.run(self.acting_admin, statement, now)
        entries = await self.run(self.catch_up.query, lambda: self.directory.search(community.slug, now=now))
        fields = [f.name for f in community.policy.profile_fields]
        content = to_json(entries) if body.format == "json" else to_csv(entries, fields)
        return {"format": body.format, "count": len(entries), "content": content}
