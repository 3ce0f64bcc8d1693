"""A community's governance policy: the proxy limit and who may start polls."""

from __future__ import annotations

from services.governance.domain.events import SettingsConfigured, Statement
from shared.domain import Aggregate, DomainError, applies

DEFAULT_PROXY_LIMIT = 5


def settings_id(community: str) -> str:
    return f"{community}.settings.governance"


class GovernanceSettings(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.proxy_limit = DEFAULT_PROXY_LIMIT
        self.poll_creators = "members"

    def configure(
        self, *, community: str, proxy_limit: int, poll_creators: str, by: str, statement: Statement, now: int
    ) -> None:
        if not 0 <= proxy_limit <= 1000:
            raise DomainError("invalid_settings", "a proxy may vote for 0..1000 members")
        if poll_creators not in ("members", "admins"):
            raise DomainError("invalid_settings", "poll_creators is 'members' or 'admins'")
        self.trigger(
            SettingsConfigured,
            now,
            community=community,
            proxy_limit=proxy_limit,
            poll_creators=poll_creators,
            by=by,
            statement=statement,
        )

    @applies(SettingsConfigured)
    def _configured(self, event: SettingsConfigured) -> None:
        self.proxy_limit, self.poll_creators = event.proxy_limit, event.poll_creators
