"""Events of the GOVERNANCE stream (tags are the stored contract: never change one, add a new one).

`statement` is the acting member's signed statement, verbatim, so anyone can re-check that the
member herself asked for what the event records; None only for what the service does on its own
(opening at a scheduled time, reminders, closing at the close time, recording results).
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, UnsetType

from services.governance.domain.rules import PollSpec
from shared.domain import Event
from shared.eventcodec import EventRegistry

Statement = dict[str, Any] | None
Json = dict[str, Any]


class SettingsConfigured(Event, frozen=True, tag="governance.settings_configured.v1"):
    """A community's governance policy: how many members one proxy may vote for, who may start polls."""

    community: str
    proxy_limit: int
    poll_creators: str  # "members" | "admins"
    by: str
    statement: Statement = None


class PollCreated(Event, frozen=True, tag="governance.poll_created.v1"):
    community: str
    poll: str
    spec: PollSpec
    opens_ns: int
    closes_ns: int
    proxy_limit: int  # the community's limit when the poll was created, fixed for the poll
    by: str
    statement: Statement = None


class TrusteeCommitted(Event, frozen=True, tag="governance.trustee_committed.v1", omit_defaults=True):
    """A trustee's public part of the key ceremony (secret polls): Feldman commitments and a proof.

    `shares` was added later as an optional field of the same version: events without it are
    written byte for byte as before (omit_defaults), and a reader that predates it ignores it.
    """

    trustee: int
    did: str
    commitment: Json  # crypto.DealerCommitment as JSON
    statement: Statement = None
    shares: list[Json] | None = None  # crypto.SealedShare as JSON: her shares for the other trustees


class ShareComplained(Event, frozen=True, tag="governance.share_complained.v1"):
    """A trustee says the share a dealer sealed to her is missing, unreadable or false.

    She cannot show it (only she can open the box); the dealer answers by revealing the share in
    the clear (`ShareRevealed`), which anyone checks against the dealer's public commitments."""

    trustee: int  # who complains: the share's recipient
    dealer: int
    did: str
    statement: Statement = None


class ShareRevealed(Event, frozen=True, tag="governance.share_revealed.v1"):
    """A dealer's answer to a complaint: the share for `recipient`, in the clear, checked by the
    service against the dealer's Feldman commitments (and by any auditor after it)."""

    dealer: int
    recipient: int
    share: Json  # crypto.SecretShare
    did: str
    statement: Statement = None


class PollOpened(Event, frozen=True, tag="governance.poll_opened.v1"):
    """Voting opens on the roll committed by membership at this instant (snapshot id, Merkle root, size)."""

    snapshot: str
    root: str
    size: int
    roll_at_ns: int
    public_key: str = ""  # secret polls: the trustees' joint ElGamal key
    setup: Json | None = None  # secret polls: the whole ceremony record (crypto.TrusteeSetup)


class ReminderSent(Event, frozen=True, tag="governance.reminder_sent.v1"):
    """Eligible members who had not voted yet were reminded (the notice went out on NATS)."""

    due_ns: int
    recipients: int


class PollClosed(Event, frozen=True, tag="governance.poll_closed.v1"):
    """No ballot after this commit counts: a ballot counts only when its commit precedes this one."""

    reason: str  # "close_time" | "all_voted" | "by_author" | "target_reached" (count polls)
    by: str
    statement: Statement = None


class PollExtended(Event, frozen=True, tag="governance.poll_extended.v1"):
    """Its author moved the close later while the poll was still open (or not open yet)."""

    closes_ns: int
    by: str
    statement: Statement = None


class TallyEncrypted(Event, frozen=True, tag="governance.tally_encrypted.v1"):
    """Secret polls: the homomorphic product of the counted ballots, for the trustees to decrypt."""

    tally: Json  # crypto.EncryptedTally
    voters: int
    delegated: int


class PartialDecryptionSubmitted(Event, frozen=True, tag="governance.partial_decryption_submitted.v1"):
    trustee: int
    partial: Json  # crypto.PartialDecryption
    valid: bool
    statement: Statement = None


class ResultsRecorded(Event, frozen=True, tag="governance.results_recorded.v1"):
    """The final count and outcome, recomputable by anyone from the log."""

    result: Json


class OutcomeStated(Event, frozen=True, tag="governance.outcome_stated.v1"):
    """The author's statement of what was decided, recorded after close (Loomio's outcome).

    For a meeting poll she may pick the time (`slot`, an index of its options) and say where
    (`location`). Both were added later to the same version: UNSET is not written, so outcomes
    without them keep their exact bytes and a reader that predates them ignores them.
    """

    text: str
    by: str
    statement: Statement = None
    slot: int | UnsetType = UNSET
    location: str | UnsetType = UNSET


class BallotCast(Event, frozen=True, tag="governance.ballot_cast.v1"):
    """One member's ballot; a later one replaces it until close (both stay in the log).

    Open polls carry `choice`; secret polls carry the encrypted `ballot` and its `tracker`. `cast_by`
    differs from `voter` when a proxy voted under `delegation`.
    """

    community: str
    poll: str
    voter: str
    cast_by: str
    delegation: str = ""
    choice: tuple[int, ...] = ()
    ballot: Json | None = None
    tracker: str = ""
    statement: Statement = None


class DelegationGranted(Event, frozen=True, tag="governance.delegation_granted.v1"):
    """A member's signed DelegationCredential: `proxy` votes for her in `poll`, or in any poll of a period."""

    community: str
    delegator: str
    proxy: str
    poll: str = ""
    valid_from_ns: int = 0
    valid_until_ns: int = 0
    statement: Statement = None


class DelegationRevoked(Event, frozen=True, tag="governance.delegation_revoked.v1"):
    by: str
    statement: Statement = None


REGISTRY = EventRegistry(
    [
        SettingsConfigured,
        PollCreated,
        TrusteeCommitted,
        ShareComplained,
        ShareRevealed,
        PollOpened,
        ReminderSent,
        PollClosed,
        PollExtended,
        TallyEncrypted,
        PartialDecryptionSubmitted,
        ResultsRecorded,
        OutcomeStated,
        BallotCast,
        DelegationGranted,
        DelegationRevoked,
    ]
)
