"""Who may read what: access rules carried by every chunk, and the standing of the asking member.

A rule is a small value with a stable key, so an index can keep one key per chunk and a query can
turn the asking member into the set of keys she may read *before* candidates are generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GOOD_STANDING = frozenset({"active", "in_grace"})
ADMIN = "admin"


@dataclass(frozen=True)
class Viewer:
    """The asking member as membership sees her now."""

    did: str
    standing: str
    roles: frozenset[str] = frozenset()
    membership_type: str = ""
    tags: frozenset[str] = frozenset()

    @property
    def in_good_standing(self) -> bool:
        return self.standing in GOOD_STANDING

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


@dataclass(frozen=True)
class AccessRule:
    """Members in good standing, narrowed by roles, membership types and tags (any of each list;
    every non-empty list must match), or by a forum category whose read roles apply at query time."""

    roles: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    category: str = ""

    @property
    def key(self) -> str:
        if self.category:
            return f"category:{self.category}"
        parts = [",".join(sorted(set(values))) for values in (self.roles, self.types, self.tags)]
        return "members" if not any(parts) else "audience:" + "|".join(parts)

    @classmethod
    def everyone(cls) -> AccessRule:
        return cls()

    @classmethod
    def for_roles(cls, roles: tuple[str, ...] | list[str]) -> AccessRule:
        return cls(roles=tuple(sorted(set(roles))))

    @classmethod
    def for_category(cls, category: str) -> AccessRule:
        return cls(category=category)


@dataclass
class CategoryRoles:
    """The read roles of each forum category of one community, as its last configuration said."""

    read_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)


def allows(rule: AccessRule, viewer: Viewer, categories: CategoryRoles) -> bool:
    """Whether `viewer` may read what `rule` governs.

    Forum categories follow messaging exactly: their read roles bind admins too. Announcements and
    documents are readable by every admin of the community (admins send the one and manage the other).
    """
    if not viewer.in_good_standing:
        return False
    if rule.category:
        roles = categories.read_roles.get(rule.category)
        if roles is None:  # a category we have not seen configured: closed until we know
            return False
        return not roles or bool(viewer.roles & set(roles))
    if viewer.is_admin:
        return True
    if rule.roles and not viewer.roles & set(rule.roles):
        return False
    if rule.types and viewer.membership_type not in rule.types:
        return False
    return not rule.tags or bool(viewer.tags & set(rule.tags))
