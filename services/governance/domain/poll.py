"""The Poll aggregate: created → (key ceremony) → open on a committed roll → closed → results → outcome."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from msgspec import UNSET

from services.governance.domain.events import (
    OutcomeStated,
    PartialDecryptionSubmitted,
    PollClosed,
    PollCreated,
    PollExtended,
    PollOpened,
    ReminderSent,
    ResultsRecorded,
    ShareComplained,
    ShareRevealed,
    Statement,
    TallyEncrypted,
    TrusteeCommitted,
)
from services.governance.domain.rules import PollSpec, slot_start
from shared.domain import Aggregate, DomainError, applies

HOUR_NS = 3600 * 10**9
MAX_LOCATION = 300
MAX_OPEN_NS = 366 * 24 * HOUR_NS  # how far ahead an extension may move a poll's close


def poll_id(community: str, poll: str) -> str:
    return f"{community}.poll.{poll}"


class Poll(Aggregate):
    community: str
    poll: str
    spec: PollSpec
    author: str
    opens_ns: int
    closes_ns: int
    proxy_limit: int

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = "created"  # created | open | closed | decided
        self.commitments: dict[int, dict[str, Any]] = {}
        self.sealed_shares: dict[int, list[dict[str, Any]]] = {}
        # (dealer, recipient) → the share the dealer revealed in answer, or None while unanswered
        self.complaints: dict[tuple[int, int], dict[str, Any] | None] = {}
        self.snapshot = ""
        self.root = ""
        self.size = 0
        self.roll_at_ns = 0
        self.public_key = ""
        self.setup: dict[str, Any] | None = None
        self.reminders_sent: set[int] = set()
        self.closed_reason = ""
        self.closed_ns = 0
        self.tally: dict[str, Any] | None = None
        self.partials: dict[int, dict[str, Any]] = {}
        self.result: dict[str, Any] | None = None
        self.outcome = ""
        self.meeting_slot: int | None = None  # a meeting poll's time, picked with the outcome
        self.meeting_location = ""
        self.meeting_fixed_ns = 0  # when the outcome last picked the time
        self.meeting_revision = -1  # how many times it was picked before (an iCalendar SEQUENCE)

    # -- decisions ------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        community: str,
        poll: str,
        spec: PollSpec,
        opens_ns: int,
        closes_ns: int,
        proxy_limit: int,
        by: str,
        statement: Statement,
        now: int,
    ) -> Poll:
        spec = spec.checked()
        if closes_ns <= max(opens_ns, now):
            raise DomainError("invalid_poll", "a poll must close after it opens and in the future")
        created = cls(poll_id(community, poll))
        created.trigger(
            PollCreated,
            now,
            community=community,
            poll=poll,
            spec=spec,
            opens_ns=opens_ns,
            closes_ns=closes_ns,
            proxy_limit=proxy_limit,
            by=by,
            statement=statement,
        )
        return created

    @property
    def trustees(self) -> tuple[str, ...]:
        return self.spec.secret.trustees if self.spec.secret else ()

    def trustee_index(self, did: str) -> int:
        if did not in self.trustees:
            raise DomainError("not_a_trustee", f"{did} is not a trustee of poll {self.poll}")
        return self.trustees.index(did) + 1

    def commit_trustee(
        self,
        did: str,
        commitment: dict[str, Any],
        statement: Statement,
        now: int,
        shares: list[dict[str, Any]] | None = None,
    ) -> int:
        index = self.trustee_index(did)
        if self.status != "created":
            raise DomainError("ceremony_over", "the key ceremony is over: the poll has opened")
        if index in self.commitments:
            raise DomainError("already_committed", f"trustee {index} has already committed")
        if commitment.get("dealer") != index:
            raise DomainError("invalid_commitment", f"the commitment must be dealt as trustee {index}")
        self.trigger(
            TrusteeCommitted,
            now,
            trustee=index,
            did=did,
            commitment=commitment,
            statement=statement,
            shares=shares,
        )
        return index

    def complain(self, did: str, dealer: int, statement: Statement, now: int) -> int:
        """Her share from `dealer` is missing, unreadable or false: the dealer is to reveal it."""
        me = self.trustee_index(did)
        if self.result is not None:
            raise DomainError("poll_decided", "the poll is counted: complaints about shares are over")
        if dealer == me:
            raise DomainError(
                "invalid_complaint", "a trustee makes her own share: there is nothing to complain of"
            )
        if dealer not in self.commitments:
            raise DomainError("invalid_complaint", f"trustee {dealer} has not dealt any shares yet")
        if (dealer, me) in self.complaints:
            raise DomainError(
                "already_complained", f"trustee {me} has already complained of trustee {dealer}"
            )
        self.trigger(ShareComplained, now, trustee=me, dealer=dealer, did=did, statement=statement)
        return me

    def reveal(self, did: str, recipient: int, share: dict[str, Any], statement: Statement, now: int) -> int:
        """The dealer's answer: the share for `recipient` in the clear (checked by the caller)."""
        me = self.trustee_index(did)
        if (me, recipient) not in self.complaints:
            raise DomainError("no_complaint", f"trustee {recipient} has not complained of your share")
        if self.complaints[(me, recipient)] is not None:
            raise DomainError("already_revealed", f"the share for trustee {recipient} is already revealed")
        self.trigger(
            ShareRevealed, now, dealer=me, recipient=recipient, share=share, did=did, statement=statement
        )
        return me

    def unanswered(self, dealer: int) -> list[int]:
        """The trustees whose complaints of `dealer` wait for a revealed share."""
        return sorted(r for (d, r), share in self.complaints.items() if d == dealer and share is None)

    @property
    def ceremony_complete(self) -> bool:
        return self.spec.secret is None or len(self.commitments) == len(self.trustees)

    def ready_to_open(self, now: int) -> bool:
        return self.status == "created" and self.ceremony_complete and now >= self.opens_ns

    def open(
        self,
        *,
        snapshot: str,
        root: str,
        size: int,
        roll_at_ns: int,
        public_key: str,
        setup: dict[str, Any] | None,
        now: int,
    ) -> None:
        if self.status != "created":
            raise DomainError("poll_not_pending", f"poll {self.poll} is already {self.status}")
        if not self.ceremony_complete:
            raise DomainError("ceremony_incomplete", "every trustee must commit before a secret poll opens")
        self.trigger(
            PollOpened,
            now,
            snapshot=snapshot,
            root=root,
            size=size,
            roll_at_ns=roll_at_ns,
            public_key=public_key,
            setup=setup,
        )

    def require_open(self, now: int) -> None:
        if self.status == "created":
            raise DomainError("poll_not_open", f"poll {self.poll} is not open yet")
        if self.status != "open" or now >= self.closes_ns:
            raise DomainError("poll_closed", f"poll {self.poll} is closed")

    def due_reminders(self, now: int) -> list[int]:
        if self.status != "open":
            return []
        due = [self.closes_ns - h * HOUR_NS for h in self.spec.reminders_h]
        return sorted(d for d in due if self.opens_ns < d <= now and d not in self.reminders_sent)

    def remind(self, due_ns: int, recipients: int, now: int) -> None:
        self.trigger(ReminderSent, now, due_ns=due_ns, recipients=recipients)

    def extend(self, closes_ns: int, by: str, statement: Statement, now: int) -> None:
        """Her poll stays open longer: only its author, only later, only before it has closed."""
        if by != self.author:
            raise DomainError("not_the_author", "only the poll's author may extend it")
        if self.status not in ("created", "open") or now >= self.closes_ns:
            raise DomainError("poll_closed", f"poll {self.poll} has closed; it cannot be extended")
        if closes_ns <= self.closes_ns:
            raise DomainError(
                "invalid_extension", "an extension moves the close later (to close it sooner, close it now)"
            )
        if closes_ns - now > MAX_OPEN_NS:
            raise DomainError("invalid_extension", "a poll closes within a year")
        self.trigger(PollExtended, now, closes_ns=closes_ns, by=by, statement=statement)

    def close(self, reason: str, by: str, statement: Statement, now: int) -> None:
        if self.status != "open":
            raise DomainError("poll_not_open", f"poll {self.poll} is {self.status}, not open")
        if reason == "by_author" and (by != self.author or not self.spec.author_may_close):
            raise DomainError("not_the_author", "only the poll's author may close it early, if it allows")
        self.trigger(PollClosed, now, reason=reason, by=by, statement=statement)

    def record_encrypted_tally(self, tally: dict[str, Any], voters: int, delegated: int, now: int) -> None:
        self.trigger(TallyEncrypted, now, tally=tally, voters=voters, delegated=delegated)

    def submit_partial(
        self, did: str, partial: dict[str, Any], valid: bool, statement: Statement, now: int
    ) -> int:
        index = self.trustee_index(did)
        if self.tally is None or self.result is not None:
            raise DomainError("not_decrypting", "there is no encrypted tally waiting for decryption")
        if index in self.partials:
            raise DomainError("already_decrypted", f"trustee {index} has already sent a partial decryption")
        self.trigger(
            PartialDecryptionSubmitted, now, trustee=index, partial=partial, valid=valid, statement=statement
        )
        return index

    @property
    def valid_partials(self) -> list[dict[str, Any]]:
        return [p for p in self.partials.values() if p["valid"]]

    def record_results(self, result: dict[str, Any], now: int) -> None:
        if self.status != "closed" or self.result is not None:
            raise DomainError("poll_not_closed", "results are recorded once, after close")
        self.trigger(ResultsRecorded, now, result=result)

    def state_outcome(
        self, text: str, by: str, statement: Statement, now: int, slot: int | None = None, location: str = ""
    ) -> None:
        if self.result is None:
            raise DomainError("no_results_yet", "an outcome is stated after the results are in")
        if by != self.author:
            raise DomainError("not_the_author", "the poll's author states its outcome")
        if not text.strip() or len(text) > 10_000:
            raise DomainError("invalid_request", "an outcome statement is 1..10000 characters")
        if slot is None:
            if location:
                raise DomainError("invalid_request", "a location goes with the meeting's time (slot)")
            self.trigger(OutcomeStated, now, text=text, by=by, statement=statement)
            return
        if self.spec.kind != "meeting":
            raise DomainError("invalid_request", "only a meeting poll's outcome picks a time (slot)")
        times = len(self.spec.options)
        if not 0 <= slot < times:
            raise DomainError("invalid_request", f"slot is the index of one of the {times} times")
        if len(location) > MAX_LOCATION or "\n" in location or "\r" in location:
            raise DomainError("invalid_request", f"a location is one line, {MAX_LOCATION} characters at most")
        self.trigger(OutcomeStated, now, text=text, by=by, statement=statement, slot=slot, location=location)

    def meeting(self) -> dict[str, str] | None:
        """The meeting a meeting poll's outcome fixed: start and end (RFC 3339) and where, if picked."""
        if self.meeting_slot is None:
            return None
        option = self.spec.options[self.meeting_slot]
        start = slot_start(option)
        end = start + timedelta(minutes=self.spec.meeting_minutes)
        stamp = end.isoformat()
        stamp = stamp[:-6] + "Z" if stamp.endswith("+00:00") else stamp
        return {"start": option, "end": stamp, "location": self.meeting_location}

    # -- state ----------------------------------------------------------------------------------

    @applies(PollCreated)
    def _created(self, event: PollCreated) -> None:
        self.community, self.poll, self.spec = event.community, event.poll, event.spec
        self.author, self.opens_ns, self.closes_ns = event.by, event.opens_ns, event.closes_ns
        self.proxy_limit = event.proxy_limit

    @applies(TrusteeCommitted)
    def _committed(self, event: TrusteeCommitted) -> None:
        self.commitments[event.trustee] = event.commitment
        if event.shares:
            self.sealed_shares[event.trustee] = event.shares

    @applies(ShareComplained)
    def _complained(self, event: ShareComplained) -> None:
        self.complaints[(event.dealer, event.trustee)] = None

    @applies(ShareRevealed)
    def _revealed(self, event: ShareRevealed) -> None:
        self.complaints[(event.dealer, event.recipient)] = event.share

    @applies(PollOpened)
    def _opened(self, event: PollOpened) -> None:
        self.status = "open"
        self.snapshot, self.root, self.size = event.snapshot, event.root, event.size
        self.roll_at_ns, self.public_key, self.setup = event.roll_at_ns, event.public_key, event.setup

    @applies(ReminderSent)
    def _reminded(self, event: ReminderSent) -> None:
        self.reminders_sent.add(event.due_ns)

    @applies(PollExtended)
    def _extended(self, event: PollExtended) -> None:
        self.closes_ns = event.closes_ns

    @applies(PollClosed)
    def _closed(self, event: PollClosed) -> None:
        self.status = "closed"
        self.closed_reason = event.reason
        self.closed_ns = event.occurred_ns

    @applies(TallyEncrypted)
    def _tallied(self, event: TallyEncrypted) -> None:
        self.tally = {"tally": event.tally, "voters": event.voters, "delegated": event.delegated}

    @applies(PartialDecryptionSubmitted)
    def _partial(self, event: PartialDecryptionSubmitted) -> None:
        self.partials[event.trustee] = {"partial": event.partial, "valid": event.valid}

    @applies(ResultsRecorded)
    def _results(self, event: ResultsRecorded) -> None:
        self.status = "decided"
        self.result = event.result

    @applies(OutcomeStated)
    def _outcome(self, event: OutcomeStated) -> None:
        self.outcome = event.text
        self.meeting_slot = None if event.slot is UNSET else event.slot
        self.meeting_location = "" if event.location is UNSET else event.location
        if self.meeting_slot is not None:
            self.meeting_fixed_ns = event.occurred_ns
            self.meeting_revision += 1
