"""Commands of the membership service (`membership.cmd.<name>`) and the bodies of signed statements.

A command that a member makes carries her signed statement; what she asks for is the statement's
`body`, decoded into one of the `*Body` types here, so nothing unsigned changes what is done.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from services.membership.domain.policy import Policy


class Signed(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    statement: dict[str, Any]


class CreateCommunity(msgspec.Struct, forbid_unknown_fields=True):
    """By a member (`statement`, she becomes the first admin) or by the hosting operator (`admin`)."""

    slug: str
    name: str
    policy: Policy = Policy()
    statement: dict[str, Any] | None = None
    admin: str | None = None
    admin_name: str = "Founding admin"


class CommunityQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str


class RollQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    at: str | None = None  # RFC 3339; default now


class SnapshotQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    snapshot: str


class DirectoryQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    text: str = ""
    role: str | None = None
    status: str | None = None
    type: str | None = None
    tag: str | None = None


class CommunitiesQuery(msgspec.Struct, forbid_unknown_fields=True):
    """The hosting provider's list of the communities on the deployment (on the bus only)."""

    text: str = ""
    include_archived: bool = False


class MemberQuery(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    member: str  # a DID


class ImportMembers(msgspec.Struct, forbid_unknown_fields=True):
    community: str
    statement: dict[str, Any]
    csv: str


# -- bodies of signed statements ------------------------------------------------------------------


class ConfigureBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str | None = None
    policy: Policy | None = None


class ReasonBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""


class FounderBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str = "Founding admin"


class InviteBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    email: str = ""
    external_id: str = ""
    did: str = ""
    type: str | None = None
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    profile: dict[str, str] = {}


class InvitationRef(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    email: str = ""
    external_id: str = ""


class ApplyBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str = ""
    answers: dict[str, str] = {}
    profile: dict[str, str] = {}
    type: str | None = None
    invitation: InvitationRef | None = None


class MemberAct(msgspec.Struct, forbid_unknown_fields=True):
    member: str  # the DID acted on
    reason: str = ""
    type: str | None = None
    roles: tuple[str, ...] | None = None


class AcknowledgeBody(msgspec.Struct, forbid_unknown_fields=True):
    acknowledgement: dict[str, Any]


class ProfileBody(msgspec.Struct, forbid_unknown_fields=True):
    member: str | None = None  # another member's DID, for an admin; default: oneself
    name: str = ""
    profile: dict[str, str] = {}
    tags: tuple[str, ...] | None = None


class ImportBody(msgspec.Struct, forbid_unknown_fields=True):
    csv_sha256: str
    dry_run: bool = True
    import_valid: bool = False  # with broken rows, import the valid ones anyway


class ExportBody(msgspec.Struct, forbid_unknown_fields=True):
    format: Literal["csv", "json"] = "csv"
