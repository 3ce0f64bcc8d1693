"""A community's policies: join mode, roles, membership types with terms, profile fields, questions."""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from shared.domain import DomainError

JoinMode = Literal["invite_only", "application", "open_with_approval"]
JOIN_MODES: tuple[str, ...] = ("invite_only", "application", "open_with_approval")
BUILT_IN_ROLES: tuple[str, ...] = ("admin", "moderator", "member")
DAY_NS = 24 * 3600 * 10**9
_NAME = re.compile(r"^[a-z][a-z0-9_\-]{0,39}$")


class MembershipType(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A kind of membership and its terms: how long a term lasts and the grace after it ends."""

    name: str
    duration_days: int = 365
    grace_days: int = 30
    label: str = ""


class ProfileField(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    label: str = ""
    required: bool = False


class ScreeningQuestion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    text: str
    required: bool = True


class Policy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything a community configures; checked as a whole whenever it changes."""

    join_mode: JoinMode = "application"
    roles: tuple[str, ...] = BUILT_IN_ROLES
    membership_types: tuple[MembershipType, ...] = (MembershipType("standard"),)
    profile_fields: tuple[ProfileField, ...] = ()
    screening_questions: tuple[ScreeningQuestion, ...] = ()

    def checked(self) -> Policy:
        if self.join_mode not in JOIN_MODES:
            raise DomainError("invalid_policy", f"join mode must be one of {', '.join(JOIN_MODES)}")
        roles = tuple(dict.fromkeys((*BUILT_IN_ROLES, *self.roles)))
        for role in roles:
            _name(role, "role")
        if not self.membership_types:
            raise DomainError("invalid_policy", "a community needs at least one membership type")
        for kind in self.membership_types:
            _name(kind.name, "membership type")
            if not 1 <= kind.duration_days <= 100 * 365 or not 0 <= kind.grace_days <= 365:
                raise DomainError(
                    "invalid_policy",
                    f"membership type {kind.name}: a term lasts 1 day to 100 years, grace 0-365 days",
                )
        for names, what in (
            ([t.name for t in self.membership_types], "membership type"),
            ([f.name for f in self.profile_fields], "profile field"),
            ([q.id for q in self.screening_questions], "screening question"),
        ):
            for name in names:
                _name(name, what)
            if len(set(names)) != len(names):
                raise DomainError("invalid_policy", f"each {what} needs a distinct name")
        return msgspec.structs.replace(self, roles=roles)

    def membership_type(self, name: str | None) -> MembershipType:
        if name is None:
            return self.membership_types[0]
        for kind in self.membership_types:
            if kind.name == name:
                return kind
        known = ", ".join(t.name for t in self.membership_types)
        raise DomainError(
            "unknown_membership_type", f"no membership type {name!r}; this community has {known}"
        )

    def check_roles(self, roles: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(roles) - set(self.roles))
        if unknown:
            raise DomainError(
                "unknown_role", f"no role {', '.join(unknown)}; this community has {', '.join(self.roles)}"
            )
        return tuple(sorted(set(roles) | {"member"}))

    def check_profile(self, profile: dict[str, str], *, complete: bool) -> dict[str, str]:
        known = {f.name for f in self.profile_fields}
        unknown = sorted(set(profile) - known)
        if unknown:
            raise DomainError("unknown_profile_field", f"this community has no profile field {unknown[0]!r}")
        if complete:
            missing = [f.name for f in self.profile_fields if f.required and not profile.get(f.name)]
            if missing:
                raise DomainError("missing_profile_field", f"profile field {missing[0]!r} is required")
        return {k: v.strip() for k, v in profile.items()}

    def check_answers(self, answers: dict[str, str], *, complete: bool = True) -> dict[str, str]:
        known = {q.id for q in self.screening_questions}
        unknown = sorted(set(answers) - known)
        if unknown:
            raise DomainError("unknown_question", f"this community asks no question {unknown[0]!r}")
        if not complete:
            return answers
        missing = [q.id for q in self.screening_questions if q.required and not answers.get(q.id, "").strip()]
        if missing:
            raise DomainError("unanswered_question", f"screening question {missing[0]!r} needs an answer")
        return answers


def _name(value: str, what: str) -> None:
    if not _NAME.match(value):
        raise DomainError("invalid_policy", f"{what} {value!r}: 1-40 of a-z 0-9 _ -, starting with a letter")
