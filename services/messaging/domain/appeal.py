"""An appeal against a moderation decision: filed by the member it affected, decided by another moderator."""

from __future__ import annotations

from services.messaging.domain.errors import Forbidden, Invalid
from services.messaging.domain.events import AppealDecided, AppealFiled, Statement
from shared.domain import Aggregate, DomainError, applies

TARGETS = ("post", "message", "ban")
DECISIONS = ("upheld", "overturned")


def appeal_id(community: str, appeal: str) -> str:
    return f"{community}.appeal.{appeal}"


class Appeal(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.appeal = aggregate_id.rsplit(".", 1)[-1]
        self.target_kind = ""
        self.target = ""
        self.by = ""
        self.reason = ""
        self.decision = ""  # "" while open
        self.decided_by = ""
        self.decision_reason = ""

    def file(
        self, *, target_kind: str, target: str, by: str, reason: str, statement: Statement, now: int
    ) -> None:
        if target_kind not in TARGETS:
            raise Invalid("invalid_request", f"an appeal is against a {', '.join(TARGETS)}")
        self.trigger(
            AppealFiled,
            now,
            appeal=self.appeal,
            target_kind=target_kind,
            target=target,
            by=by,
            reason=reason,
            statement=statement,
        )

    def decide(self, *, decision: str, by: str, reason: str, statement: Statement, now: int) -> None:
        if self.decision:
            raise DomainError("appeal_decided", f"this appeal was already {self.decision}")
        if decision not in DECISIONS:
            raise Invalid("invalid_request", f"decision is one of {', '.join(DECISIONS)}")
        if by == self.by:
            raise Forbidden("own_appeal", "a member does not decide her own appeal")
        self.trigger(
            AppealDecided,
            now,
            appeal=self.appeal,
            decision=decision,
            by=by,
            reason=reason,
            statement=statement,
        )

    @applies(AppealFiled)
    def _filed(self, event: AppealFiled) -> None:
        self.target_kind, self.target, self.by, self.reason = (
            event.target_kind,
            event.target,
            event.by,
            event.reason,
        )

    @applies(AppealDecided)
    def _decided(self, event: AppealDecided) -> None:
        self.decision, self.decided_by, self.decision_reason = event.decision, event.by, event.reason
