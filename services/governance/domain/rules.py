"""What a poll is (kind, options, thresholds, timing rules) and what a valid choice of each kind is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, get_args

import msgspec
from msgspec import UNSET, UnsetType

from shared.domain import DomainError

Kind = Literal["proposal", "consent", "single", "multiple", "ranked", "score", "dot", "meeting", "count"]
KINDS: tuple[str, ...] = get_args(Kind)
PROPOSAL_POSITIONS = ("agree", "abstain", "disagree", "block")
CONSENT_POSITIONS = ("consent", "object")
# A count poll (Loomio's "count"): each member opts in (0) or out (1); it succeeds at `target` ins.
COUNT_POSITIONS = ("I'm in", "I'm out")
FIXED_POSITIONS = {"proposal": PROPOSAL_POSITIONS, "consent": CONSENT_POSITIONS, "count": COUNT_POSITIONS}
MAX_TARGET = 100_000
# `target_reached` (count polls only): the poll closes at the ballot that brings the ins to the target.
CloseEarly = Literal["never", "all_voted", "target_reached"]
MAX_OPTIONS = 64
MAX_REMINDERS = 5
# A meeting poll's answer per time slot (Loomio's time poll): can come, can come if need be, cannot.
CANNOT, IF_NEED_BE, CAN = 0, 1, 2
DEFAULT_MEETING_MINUTES = 60


class SecretSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Secret ballots: `threshold` of the `trustees` (member DIDs, in trustee order 1..n) decrypt."""

    trustees: tuple[str, ...]
    threshold: int


class PollSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything a poll's author decides when she starts it; checked as a whole."""

    kind: Kind
    title: str
    description: str = ""
    discussion: str = ""  # link to the discussion thread
    options: tuple[str, ...] = ()  # proposal, consent and count have fixed positions
    min_choices: int = 1  # multiple: at least ...
    max_choices: int = 1  # multiple: ... and at most k of n
    method: Literal["irv", "schulze"] = "irv"  # ranked
    max_score: int = 5  # score
    dots: int = 10  # dot vote: dots per voter
    quorum_pct: int = 0  # share of eligible members who must vote
    threshold_pct: int = 50  # proposal: agree must exceed this share of agree + disagree; single: of ballots
    block_fails: bool = True  # proposal: a single block fails the proposal
    close_early: CloseEarly = "never"
    author_may_close: bool = True
    reminders_h: tuple[int, ...] = ()  # hours before close
    secret: SecretSettings | None = None
    # meeting: how long the meeting lasts, 5..1440 minutes (60 when not given). Added after the
    # other fields: UNSET is not written, so specs recorded before it keep their exact bytes.
    duration_min: int | UnsetType = UNSET
    # count: how many members must opt in for it to succeed, 1..100000 (required for a count poll,
    # refused for any other). UNSET, as duration_min, so older specs keep their bytes.
    target: int | UnsetType = UNSET

    @property
    def meeting_minutes(self) -> int:
        """A meeting poll's length in minutes."""
        return DEFAULT_MEETING_MINUTES if self.duration_min is UNSET else int(self.duration_min)

    @property
    def count_target(self) -> int:
        """A count poll's target: how many members must be in (0 for other kinds)."""
        return 0 if self.target is UNSET else int(self.target)

    @property
    def choices(self) -> tuple[str, ...]:
        """The options voters choose among (the fixed positions for proposal, consent and count)."""
        return FIXED_POSITIONS.get(self.kind, self.options)

    def checked(self) -> PollSpec:
        """The spec, or DomainError("invalid_poll") naming what is wrong."""
        if self.kind not in KINDS:
            raise invalid(f"kind must be one of {', '.join(KINDS)}")
        if not self.title.strip() or len(self.title) > 300:
            raise invalid("a poll needs a title of at most 300 characters")
        if self.kind in FIXED_POSITIONS:
            if self.options:
                fixed = " / ".join(FIXED_POSITIONS[self.kind])
                raise invalid(f"a {self.kind} poll has fixed positions ({fixed}); give no options")
        elif not 2 <= len(self.options) <= MAX_OPTIONS:
            raise invalid(f"a {self.kind} poll needs 2 to {MAX_OPTIONS} options")
        if len(set(self.options)) != len(self.options) or any(not o.strip() for o in self.options):
            raise invalid("options must be distinct and not empty")
        n = len(self.choices)
        if self.kind == "multiple" and not 0 <= self.min_choices <= self.max_choices <= n:
            raise invalid("multiple choice needs 0 <= min_choices <= max_choices <= number of options")
        if self.kind == "score" and not 1 <= self.max_score <= 10:
            raise invalid("scores go from 0 to max_score, 1..10")
        if self.kind == "dot" and not 1 <= self.dots <= 1000:
            raise invalid("a dot vote gives each voter 1..1000 dots")
        if self.kind == "meeting":
            starts = [slot_start(option) for option in self.options]
            if len(set(starts)) != len(starts):
                raise invalid("two of the meeting's times are the same instant")
            if not 5 <= self.meeting_minutes <= 1440:
                raise invalid("a meeting lasts 5..1440 minutes")
        elif self.duration_min is not UNSET:
            raise invalid("duration_min is for meeting polls")
        if self.kind == "count":
            if self.target is UNSET:
                raise invalid(f"a count poll needs a target: how many must be in, 1..{MAX_TARGET}")
            if not 1 <= self.target <= MAX_TARGET:
                raise invalid(f"target is how many must be in: a whole number 1..{MAX_TARGET}")
        elif self.target is not UNSET:
            raise invalid("target is for count polls")
        if self.close_early == "target_reached" and self.kind != "count":
            raise invalid("close_early target_reached is for count polls (they have a target)")
        if not 0 <= self.quorum_pct <= 100 or not 0 <= self.threshold_pct < 100:
            raise invalid("quorum_pct is 0..100 and threshold_pct 0..99")
        if len(self.reminders_h) > MAX_REMINDERS or any(h <= 0 for h in self.reminders_h):
            raise invalid(f"at most {MAX_REMINDERS} reminders, each a positive number of hours before close")
        if self.secret is not None:
            if self.kind == "ranked":
                raise DomainError(
                    "secret_not_supported", "ranked ballots cannot be added up encrypted: use an open poll"
                )
            if self.kind == "meeting":
                raise DomainError(
                    "secret_not_supported",
                    "a meeting poll shares who can come when, so a time can be found: use an open poll",
                )
            if self.kind == "count":
                raise DomainError(
                    "secret_not_supported",
                    "a count poll shows who is in, so each can count on the others: use an open poll",
                )
            trustees = self.secret.trustees
            if not trustees or len(set(trustees)) != len(trustees) or len(trustees) > 16:
                raise invalid("a secret poll needs 1 to 16 distinct trustees")
            if not 1 <= self.secret.threshold <= len(trustees):
                raise invalid("the decryption threshold must be 1..number of trustees")
        return self

    def vector(self, choice: Sequence[int]) -> list[int]:
        """The per-option vector a valid choice adds to the count (what a secret ballot encrypts).

        Raises DomainError("invalid_choice") for a choice this poll does not allow.
        """
        n = len(self.choices)
        if self.kind in ("proposal", "consent", "single", "count"):
            if len(choice) != 1 or not 0 <= choice[0] < n:
                raise bad_choice(f"choose exactly one of {n} options (an index 0..{n - 1})")
            return [1 if i == choice[0] else 0 for i in range(n)]
        if self.kind == "multiple":
            if len(set(choice)) != len(choice) or any(not 0 <= c < n for c in choice):
                raise bad_choice("choose distinct option indexes")
            if not self.min_choices <= len(choice) <= self.max_choices:
                raise bad_choice(f"choose {self.min_choices} to {self.max_choices} options")
            return [1 if i in choice else 0 for i in range(n)]
        if self.kind == "ranked":
            if not choice or len(set(choice)) != len(choice):
                raise bad_choice("a ranking lists distinct options, each at most once")
            if any(not 0 <= c < n for c in choice):
                raise bad_choice(f"options are indexes 0..{n - 1}")
            return [1 if i == choice[0] else 0 for i in range(n)]  # first preferences
        if len(choice) != n:
            raise bad_choice(f"give one value per option ({n})")
        if self.kind == "meeting":
            if any(a not in (CANNOT, IF_NEED_BE, CAN) for a in choice):
                raise bad_choice("answer each time with 2 (can come), 1 (if need be) or 0 (cannot)")
            return [1 if a else 0 for a in choice]  # who can come at all
        if self.kind == "score":
            if any(not 0 <= s <= self.max_score for s in choice):
                raise bad_choice(f"scores are 0..{self.max_score}")
            return list(choice)
        if any(d < 0 for d in choice) or sum(choice) > self.dots:
            raise bad_choice(f"spread at most {self.dots} dots, none negative")
        return list(choice)

    def ballot_rules(self) -> dict[str, int | bool | None]:
        """The rules of the encrypted ballot of a secret poll (crypto.BallotRules fields).

        One choice among n is encrypted as n-1 options with the last implied, one ciphertext fewer.
        """
        n = len(self.choices)
        if self.kind in ("proposal", "consent", "single", "count"):
            return {"options": n, "max_per_option": 1, "min_total": 1, "max_total": 1, "implicit_last": True}
        if self.kind == "multiple":
            return {
                "options": n,
                "max_per_option": 1,
                "min_total": self.min_choices,
                "max_total": self.max_choices,
            }
        if self.kind == "score":
            return {"options": n, "max_per_option": self.max_score, "min_total": 0, "max_total": None}
        return {"options": n, "max_per_option": self.dots, "min_total": 0, "max_total": self.dots}


def slot_start(option: str) -> datetime:
    """A meeting slot's start: an RFC 3339 date and time with its offset, or invalid_poll."""
    try:
        at = datetime.fromisoformat(option)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or "T" not in option.upper():
        raise invalid(f"a meeting's time {option[:40]!r} is not a date and time with its offset (RFC 3339)")
    return at


def invalid(message: str) -> DomainError:
    return DomainError("invalid_poll", message)


def bad_choice(message: str) -> DomainError:
    return DomainError("invalid_choice", message)
