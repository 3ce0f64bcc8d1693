"""Commands of the governance service (`governance.cmd.<name>`) and the bodies of signed statements.

A member's act carries her signed statement (action `governance.<command>`); what she asks for is
the statement's `body`, decoded into one of the `*Body` types here, so nothing unsigned changes it.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from services.governance.domain.rules import PollSpec


class Signed(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    statement: dict[str, Any]


class CommunityQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    # `list_polls` only: the polls whose discussion link is this Discuss thread's (#/forums?thread=<id>)
    thread: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_\-]{1,64}\Z")] | None = None


class PollQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    poll: str


class MemberQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str


class MemberPollsQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str
    since_ns: int = 0  # polls that closed in (since_ns, until_ns] and are decided are listed
    until_ns: int = 0  # 0: up to now


class SettingsBody(msgspec.Struct, forbid_unknown_fields=True):
    proxy_limit: int
    poll_creators: str = "members"


class CreatePollBody(msgspec.Struct, forbid_unknown_fields=True):
    spec: PollSpec
    closes_at: str  # RFC 3339
    opens_at: str | None = None  # default: now (after the key ceremony for a secret poll)
    poll: str | None = None  # the id to use; default: a fresh one


class PollBody(msgspec.Struct, forbid_unknown_fields=True):
    poll: str


class ExtendBody(msgspec.Struct, forbid_unknown_fields=True):
    poll: str
    closes_at: str  # RFC 3339: the new close, later than the current one


class TrusteeBody(msgspec.Struct, forbid_unknown_fields=True):
    poll: str
    commitment: dict[str, Any]  # crypto.DealerCommitment as JSON
    shares: list[dict[str, Any]] | None = None  # crypto.SealedShare as JSON, one per other trustee


class ComplaintBody(msgspec.Struct, forbid_unknown_fields=True):
    poll: str
    dealer: int  # the trustee whose share to her is missing, unreadable or false


class RevealBody(msgspec.Struct, forbid_unknown_fields=True):
    poll: str
    recipient: int  # the trustee who complained
    share: dict[str, Any]  # crypto.SecretShare as JSON, in the clear


class CastBody(msgspec.Struct, forbid_unknown_fields=True):
    """An open ballot gives `choice`; a secret one gives the encrypted `ballot` (crypto.EncryptedBallot)."""

    poll: str
    choice: list[int] | None = None
    ballot: dict[str, Any] | None = None
    on_behalf_of: str | None = None  # a proxy votes for the member who delegated to her
    # Why she votes so (open polls only): shown beside her vote, and signed with it, since it is
    # part of the statement the ballot event keeps verbatim.
    reason: str = ""


class PartialBody(msgspec.Struct, forbid_unknown_fields=True):
    poll: str
    partial: dict[str, Any]  # crypto.PartialDecryption as JSON


class OutcomeBody(msgspec.Struct, forbid_unknown_fields=True):
    poll: str
    text: str
    slot: int | None = None  # meeting polls: the index of the time chosen
    location: str = ""  # meeting polls: where (an address, a room, a video link)


class DelegateBody(msgspec.Struct, forbid_unknown_fields=True):
    """A DelegationCredential's claim: `proxy` votes for the signer in `poll`, or in polls of a period."""

    proxy: str
    poll: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None


class RevokeBody(msgspec.Struct, forbid_unknown_fields=True):
    delegation: str
