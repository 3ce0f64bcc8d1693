"""A forum thread: where it lives, its title, and whether it is pinned or resolved."""

from __future__ import annotations

from services.messaging.domain.events import Statement, ThreadPinned, ThreadResolved, ThreadStarted
from shared.domain import Aggregate, DomainError, applies


def thread_id(community: str, thread: str) -> str:
    return f"{community}.thread.{thread}"


class Thread(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.thread = aggregate_id.rsplit(".", 1)[-1]
        self.category = ""
        self.title = ""
        self.opening_post = ""
        self.by = ""
        self.pinned = False
        self.resolved = False
        self.answer = ""

    def start(self, *, category: str, title: str, post: str, by: str, now: int) -> None:
        if self.version:
            raise DomainError("thread_exists", f"thread {self.thread} already exists")
        self.trigger(ThreadStarted, now, thread=self.thread, category=category, title=title, post=post, by=by)

    def pin(self, *, pinned: bool, by: str, statement: Statement, now: int) -> None:
        if pinned != self.pinned:
            self.trigger(ThreadPinned, now, thread=self.thread, pinned=pinned, by=by, statement=statement)

    def resolve(self, *, resolved: bool, answer: str, by: str, statement: Statement, now: int) -> None:
        if resolved == self.resolved and answer == self.answer:
            return
        self.trigger(
            ThreadResolved,
            now,
            thread=self.thread,
            resolved=resolved,
            answer=answer,
            by=by,
            statement=statement,
        )

    @applies(ThreadStarted)
    def _started(self, event: ThreadStarted) -> None:
        self.category, self.title, self.opening_post, self.by = (
            event.category,
            event.title,
            event.post,
            event.by,
        )

    @applies(ThreadPinned)
    def _pinned(self, event: ThreadPinned) -> None:
        self.pinned = event.pinned

    @applies(ThreadResolved)
    def _resolved(self, event: ThreadResolved) -> None:
        self.resolved, self.answer = event.resolved, event.answer
