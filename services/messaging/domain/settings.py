"""A community's messaging settings: the welcome message every newly admitted member receives."""

from __future__ import annotations

from typing import Any

from services.messaging.domain.events import Statement, WelcomeConfigured
from shared.domain import Aggregate, applies


def settings_id(community: str) -> str:
    return f"{community}.settings.messaging"


class MessagingSettings(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.welcome: WelcomeConfigured | None = None

    def configure_welcome(
        self,
        *,
        announcement: str,
        title: str,
        body: str,
        document: dict[str, Any],
        by: str,
        statement: Statement,
        now: int,
    ) -> None:
        self.trigger(
            WelcomeConfigured,
            now,
            announcement=announcement,
            title=title,
            body=body,
            document=document,
            by=by,
            statement=statement,
        )

    def welcome_for(self, admitted_ns: int) -> WelcomeConfigured | None:
        """The welcome a member admitted at `admitted_ns` gets: one configured before she joined."""
        if self.welcome is None or self.welcome.occurred_ns > admitted_ns:
            return None
        return self.welcome

    @applies(WelcomeConfigured)
    def _welcome(self, event: WelcomeConfigured) -> None:
        self.welcome = event
