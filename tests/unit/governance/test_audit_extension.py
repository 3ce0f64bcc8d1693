"""The auditor's replay of `poll_extended`: only the author, only later, only while the poll is open;
a valid extension moves the close that a `close_time` close is checked against."""

from __future__ import annotations

from typing import Any

from services.governance.audit import AuditReport, Entry, _Replay

ADA, BEA = "did:key:z6Mkada", "did:key:z6Mkbea"
HOUR = 3600 * 10**9


def entry(position: int, at: int, tag: str, **fields: Any) -> Entry:
    return Entry("GOVERNANCE", position, at, f"governance.{tag}.v1", "acme.poll.p1", {"poll": "p1", **fields})


def replay(*entries: Entry) -> list[str]:
    report = AuditReport("acme")
    spec = {"kind": "proposal"}
    created = entry(1, 0, "poll_created", spec=spec, by=ADA, closes_ns=10 * HOUR, proxy_limit=5)
    _Replay(report, "acme", {}).run([created, *entries], {})
    return [f"{f.position}: {f.message}" for f in report.findings]


def test_a_valid_extension_moves_the_close_a_timed_close_is_checked_against() -> None:
    extended = entry(2, 1 * HOUR, "poll_extended", by=ADA, closes_ns=20 * HOUR)
    assert replay(extended, entry(3, 20 * HOUR, "poll_closed", reason="close_time", by="svc")) == []
    # A timed close before the extended time is early.
    assert replay(extended, entry(3, 15 * HOUR, "poll_closed", reason="close_time", by="svc")) == [
        "3: poll p1 was closed for time before its close time"
    ]


def test_an_extension_by_another_member_earlier_or_after_the_close_is_a_finding() -> None:
    assert replay(entry(2, HOUR, "poll_extended", by=BEA, closes_ns=20 * HOUR)) == [
        "2: poll p1 was extended by someone other than its author"
    ]
    assert replay(entry(2, HOUR, "poll_extended", by=ADA, closes_ns=5 * HOUR)) == [
        "2: poll p1: an extension moved its close earlier"
    ]
    assert replay(entry(2, 11 * HOUR, "poll_extended", by=ADA, closes_ns=20 * HOUR)) == [
        "2: poll p1 was extended after it had closed"
    ]
    # A refused extension changes nothing: the close is still checked against the first time.
    refused = entry(2, HOUR, "poll_extended", by=BEA, closes_ns=20 * HOUR)
    assert replay(refused, entry(3, 10 * HOUR, "poll_closed", reason="close_time", by="svc")) == [
        "2: poll p1 was extended by someone other than its author"
    ]
