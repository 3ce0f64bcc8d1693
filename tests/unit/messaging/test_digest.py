"""Summaries by email: when each is due, what period it covers, and how its mail reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.messaging.adapters.polls import MemberPolls
from services.messaging.domain.digest import DigestSetting, check_setting, due, reconfigured
from services.messaging.domain.errors import Invalid
from services.messaging.domain.participant import Participant, participant_id
from services.messaging.handlers.digests import (
    MAX_THREADS,
    AnnouncementNews,
    ConversationNews,
    Summary,
    ThreadNews,
    compose_digest,
)

NS = 10**9


def at(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()) * NS


def test_a_daily_summary_is_due_at_its_hour_and_covers_from_the_last_one() -> None:
    chosen = DigestSetting("daily", 7, 0, since_ns=at("2026-11-23T10:00:00"))
    assert due(chosen, 0, at("2026-11-24T06:59:59")) is None  # 07:00 on the 23rd came before she chose
    first = due(chosen, 0, at("2026-11-24T07:00:00"))
    assert first is not None
    assert (first.name, first.since_ns, first.until_ns) == (
        "daily 2026-11-24",
        at("2026-11-23T10:00:00"),
        at("2026-11-24T07:00:00"),
    )
    # Mailed: the next one is tomorrow at 07:00 and starts where this one ended.
    assert due(chosen, first.until_ns, at("2026-11-25T06:00:00")) is None
    second = due(chosen, first.until_ns, at("2026-11-25T13:30:00"))
    assert second is not None
    assert (second.name, second.since_ns) == ("daily 2026-11-25", first.until_ns)
    # A replica that was away for three days summarises all of it at once.
    late = due(chosen, first.until_ns, at("2026-11-28T08:00:00"))
    assert late is not None
    assert (late.name, late.since_ns, late.until_ns) == (
        "daily 2026-11-28",
        first.until_ns,
        at("2026-11-28T07:00:00"),
    )
    assert due(DigestSetting(), 0, at("2026-11-28T08:00:00")) is None  # off


def test_a_weekly_summary_ends_on_its_weekday_and_is_named_by_iso_week() -> None:
    friday_evening = DigestSetting("weekly", 18, 4, since_ns=at("2026-11-01T00:00:00"))
    period = due(friday_evening, 0, at("2026-11-26T12:00:00"))  # a Thursday
    assert period is not None
    assert (period.name, period.until_ns) == ("weekly 2026-W47", at("2026-11-20T18:00:00"))
    on_the_hour = due(friday_evening, period.until_ns, at("2026-11-27T18:00:00"))
    assert on_the_hour is not None
    assert (on_the_hour.name, on_the_hour.since_ns) == ("weekly 2026-W48", at("2026-11-20T18:00:00"))
    assert due(friday_evening, on_the_hour.until_ns, at("2026-12-04T17:59:59")) is None


def test_changing_the_hour_keeps_the_start_and_turning_off_and_on_starts_again() -> None:
    on = reconfigured(DigestSetting(), "daily", 7, 0, at("2026-11-01T00:00:00"))
    moved = reconfigured(on, "weekly", 9, 2, at("2026-11-10T00:00:00"))
    assert (moved.frequency, moved.hour, moved.weekday, moved.since_ns) == (
        "weekly",
        9,
        2,
        at("2026-11-01T00:00:00"),
    )
    off = reconfigured(moved, "off", 9, 2, at("2026-11-11T00:00:00"))
    again = reconfigured(off, "daily", 9, 2, at("2026-11-12T00:00:00"))
    assert again.since_ns == at("2026-11-12T00:00:00")  # nothing from while they were off


@pytest.mark.parametrize(
    ("frequency", "hour", "weekday", "says"),
    [
        ("hourly", 7, 0, "frequency is one of off, daily, weekly"),
        ("daily", 24, 0, "hour is a whole hour of UTC, 0 to 23"),
        ("daily", -1, 0, "hour is a whole hour of UTC, 0 to 23"),
        ("weekly", 7, 7, "weekday is 0 (Monday) to 6 (Sunday)"),
    ],
)
def test_a_bad_setting_is_refused_and_nothing_is_recorded(
    frequency: str, hour: int, weekday: int, says: str
) -> None:
    with pytest.raises(Invalid) as refused:
        check_setting(frequency, hour, weekday)
    assert (refused.value.code, refused.value.message) == ("invalid_request", says)
    participant = Participant(participant_id("river", "did:key:z6Mkbea"))
    with pytest.raises(Invalid):
        participant.configure_digest("did:key:z6Mkbea", frequency, hour, weekday, None, 1)
    assert participant.collect_events() == []


def test_a_period_is_recorded_once() -> None:
    participant = Participant(participant_id("river", "did:key:z6Mkbea"))
    participant.configure_digest("did:key:z6Mkbea", "daily", 7, 0, None, 1)
    assert participant.record_digest("did:key:z6Mkbea", "daily 2026-11-24", 1, 50, 3, "sent", 60)
    assert not participant.record_digest("did:key:z6Mkbea", "daily 2026-11-24", 1, 50, 3, "sent", 61)
    assert not participant.record_digest("did:key:z6Mkbea", "daily 2026-11-23", 0, 40, 1, "sent", 62)
    assert participant.digest_until_ns == 50
    assert participant.digest_last is not None
    assert participant.digest_last.items == 3


def test_the_mail_lists_threads_busiest_first_counts_the_rest_and_never_quotes_private_messages() -> None:
    names = {"did:cy": "Cy", "did:dee": "Dee", "did:eve": "Eve"}
    threads = [
        ThreadNews("t1", "Seed swap", "garden", "p2", "Runner beans here", 2, ["did:cy", "did:dee"], 5),
        *[ThreadNews(f"x{i}", f"Topic {i}", "misc", f"q{i}", "hello", 1, ["did:eve"], i) for i in range(14)],
    ]
    summary = Summary(
        threads,
        [AnnouncementNews("a1", "AGM on Friday", 3)],
        [
            ConversationNews("c1", "", "direct", 2, ("did:cy",)),
            ConversationNews("c2", "Allotment", "group", 1, ("did:dee",)),
        ],
        MemberPolls(
            [
                {
                    "poll": "p1",
                    "title": "Budget",
                    "opens_at": "2026-11-21T09:00:00Z",
                    "closes_at": "2026-11-30T18:00:00Z",
                },
                {
                    "poll": "p0",
                    "title": "Old one",
                    "opens_at": "2026-11-01T09:00:00Z",
                    "closes_at": "2026-11-29T18:00:00Z",
                },
            ],
            [{"poll": "p2", "title": "Picnic", "closed_at": "2026-11-22T10:00:00Z", "outcome": "No picnic."}],
        ),
        opened=1,  # of the two waiting for her vote, one opened in this period
    )
    assert (summary.posts, summary.messages, summary.items) == (16, 3, 22)
    subject, text = compose_digest(
        summary,
        community="river",
        frequency="weekly",
        since="20 November 2026, 18:00 UTC",
        base="http://gw.test",
        name=lambda did: names[did],
        category=lambda ident: {"garden": "Garden"}.get(ident, ident),
        when=lambda stamp: f"<{stamp}>",
    )
    assert subject == (
        "Weekly summary of river: 2 polls to vote in, 1 poll decided, 16 new posts, 1 announcement, "
        "3 private messages"
    )
    budget = "\N{LEFT DOUBLE QUOTATION MARK}Budget\N{RIGHT DOUBLE QUOTATION MARK}"
    assert f"- Your vote: {budget}, open until <2026-11-30T18:00:00Z>" in text
    assert "http://gw.test/app/#/polls?poll=p1&c=river" in text
    assert (
        "- Decided: \N{LEFT DOUBLE QUOTATION MARK}Picnic\N{RIGHT DOUBLE QUOTATION MARK}: No picnic." in text
    )
    assert text.startswith("What is new for you in river since 20 November 2026, 18:00 UTC:")
    assert "Discuss: 16 new posts in 15 threads" in text
    assert (
        "- \N{LEFT DOUBLE QUOTATION MARK}Seed swap\N{RIGHT DOUBLE QUOTATION MARK} in Garden: "
        "2 new posts from Cy and Dee" in text
    )
    assert "http://gw.test/app/#/forums?thread=t1&post=p2&c=river" in text
    assert text.count("Topic ") == MAX_THREADS - 1
    assert "- and 3 posts in 3 more threads: http://gw.test/app/#/forums?c=river" in text
    assert "http://gw.test/app/#/announcements?a=a1&c=river" in text
    assert "- 2 messages from Cy\n" in text
    assert "- 1 message from Dee in Allotment" in text
    assert "http://gw.test/app/#/chat?c=river" in text
