"""A forum category: its name and who may read it and start threads in it (by community role)."""

from __future__ import annotations

from collections.abc import Iterable

from services.messaging.domain.bans import Bans
from services.messaging.domain.events import CategoryConfigured, CategoryCreated, Statement
from shared.domain import DomainError, applies


def category_id(community: str, category: str) -> str:
    return f"{community}.category.{category}"


def roles_allow(required: Iterable[str], roles: Iterable[str]) -> bool:
    required = tuple(required)
    return not required or bool(set(required) & set(roles))


class Category(Bans):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.category = aggregate_id.rsplit(".", 1)[-1]
        self.space = f"category:{self.category}"
        self.name = ""
        self.description = ""
        self.read_roles: tuple[str, ...] = ()
        self.post_roles: tuple[str, ...] = ()
        self.banned: dict[str, str] = {}

    def configure(
        self,
        *,
        name: str,
        description: str,
        read_roles: tuple[str, ...],
        post_roles: tuple[str, ...],
        by: str,
        statement: Statement,
        now: int,
        create: bool,
    ) -> None:
        if create and self.version:
            raise DomainError("category_exists", f"category {self.category} already exists")
        self.trigger(
            CategoryCreated if create else CategoryConfigured,
            now,
            category=self.category,
            name=name,
            description=description,
            read_roles=read_roles,
            post_roles=post_roles,
            by=by,
            statement=statement,
        )

    def may_read(self, roles: Iterable[str]) -> bool:
        return roles_allow(self.read_roles, roles)

    def may_post(self, roles: Iterable[str]) -> bool:
        roles = tuple(roles)
        return self.may_read(roles) and roles_allow(self.post_roles, roles)

    def _set(self, event: CategoryCreated | CategoryConfigured) -> None:
        self.name, self.description = event.name, event.description
        self.read_roles, self.post_roles = event.read_roles, event.post_roles

    @applies(CategoryCreated)
    def _created(self, event: CategoryCreated) -> None:
        self._set(event)

    @applies(CategoryConfigured)
    def _configured(self, event: CategoryConfigured) -> None:
        self._set(event)
