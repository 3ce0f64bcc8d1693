"""The Poll, Ballot and Delegation aggregates: given events, when a command, then events or a refusal."""

from __future__ import annotations

from typing import Any

import pytest

from services.governance.domain.ballot import Ballot
from services.governance.domain.delegation import Delegation
from services.governance.domain.events import PollClosed, PollOpened, ReminderSent
from services.governance.domain.poll import HOUR_NS, Poll
from services.governance.domain.rules import PollSpec, SecretSettings
from shared.domain import DomainError

ADA, BEA = "did:key:z6Mkada", "did:key:z6Mkbea"
NOW = 1_000 * HOUR_NS


def poll(spec: PollSpec | None = None, **timing: int) -> Poll:
    times = {"opens_ns": NOW, "closes_ns": NOW + 10 * HOUR_NS} | timing
    return Poll.create(
        community="acme", poll="p1", spec=spec or PollSpec(kind="proposal", title="t", reminders_h=(2, 4)),
        proxy_limit=2, by=ADA, statement=None, now=NOW, **times,
    )  # fmt: skip


def opened(spec: PollSpec | None = None) -> Poll:
    p = poll(spec)
    p.open(snapshot="s", root="r", size=3, roll_at_ns=NOW, public_key="", setup=None, now=NOW)
    return p


def test_a_poll_must_close_after_it_opens() -> None:
    with pytest.raises(DomainError) as refused:
        poll(closes_ns=NOW - 1)
    assert refused.value.code == "invalid_poll"


def test_reminders_fall_due_once_each_before_close() -> None:
    p = opened()
    assert p.due_reminders(NOW + 5 * HOUR_NS) == []
    due = p.due_reminders(NOW + 7 * HOUR_NS)
    assert due == [NOW + 6 * HOUR_NS]
    p.remind(due[0], 2, NOW + 7 * HOUR_NS)
    assert p.due_reminders(NOW + 9 * HOUR_NS) == [NOW + 8 * HOUR_NS]
    assert [type(e) for e in p.collect_events()][-2:] == [PollOpened, ReminderSent]


def test_only_the_author_closes_early_and_only_once() -> None:
    p = opened()
    with pytest.raises(DomainError) as stranger:
        p.close("by_author", BEA, None, NOW + 1)
    assert stranger.value.code == "not_the_author"
    p.close("by_author", ADA, None, NOW + 1)
    assert isinstance(p.collect_events()[-1], PollClosed)
    with pytest.raises(DomainError) as twice:
        p.close("by_author", ADA, None, NOW + 2)
    assert twice.value.code == "poll_not_open"
    with pytest.raises(DomainError) as closed:
        p.require_open(NOW + 2)
    assert closed.value.code == "poll_closed"
    with pytest.raises(DomainError) as early:
        p.state_outcome("done", ADA, None, NOW + 3)
    assert early.value.code == "no_results_yet"


def test_a_secret_poll_opens_only_after_every_trustee_committed_once() -> None:
    spec = PollSpec(kind="single", title="t", options=("a", "b"), secret=SecretSettings((ADA, BEA), 2))
    p = poll(spec)
    assert not p.ready_to_open(NOW)
    with pytest.raises(DomainError) as wrong_index:
        p.commit_trustee(ADA, {"dealer": 2}, None, NOW)
    assert wrong_index.value.code == "invalid_commitment"
    p.commit_trustee(ADA, {"dealer": 1}, None, NOW)
    with pytest.raises(DomainError) as again:
        p.commit_trustee(ADA, {"dealer": 1}, None, NOW)
    assert again.value.code == "already_committed"
    with pytest.raises(DomainError) as outsider:
        p.commit_trustee("did:key:z6Mkcy", {"dealer": 3}, None, NOW)
    assert outsider.value.code == "not_a_trustee"
    p.commit_trustee(BEA, {"dealer": 2}, None, NOW)
    assert p.ready_to_open(NOW)


def test_a_proxy_cannot_replace_a_ballot_the_member_cast_herself() -> None:
    ballot = Ballot("acme.ballot.p1-x")
    common: dict[str, Any] = {
        "community": "acme",
        "poll": "p1",
        "voter": BEA,
        "ballot": None,
        "tracker": "",
        "statement": None,
    }
    ballot.cast(cast_by=ADA, delegation="d1", choice=(0,), now=NOW, **common)
    ballot.cast(cast_by=BEA, delegation="", choice=(2,), now=NOW + 1, **common)
    with pytest.raises(DomainError) as refused:
        ballot.cast(cast_by=ADA, delegation="d1", choice=(0,), now=NOW + 2, **common)
    assert refused.value.code == "voted_in_person"
    assert ballot.casts == 2


def test_a_delegation_covers_its_poll_or_its_period_until_revoked_by_the_delegator() -> None:
    period = Delegation.grant(
        community="acme", delegation="d1", delegator=BEA, proxy=ADA, poll="", valid_from_ns=NOW,
        valid_until_ns=NOW + HOUR_NS, statement=None, now=NOW,
    )  # fmt: skip
    assert period.covers("any", NOW + 1)
    assert not period.covers("any", NOW + HOUR_NS)
    with pytest.raises(DomainError) as stranger:
        period.revoke(ADA, None, NOW)
    assert stranger.value.code == "not_your_delegation"
    period.revoke(BEA, None, NOW)
    assert not period.covers("any", NOW + 1)
    with pytest.raises(DomainError) as herself:
        Delegation.grant(
            community="acme", delegation="d2", delegator=BEA, proxy=BEA, poll="p1", valid_from_ns=0,
            valid_until_ns=0, statement=None, now=NOW,
        )  # fmt: skip
    assert herself.value.code == "invalid_delegation"
