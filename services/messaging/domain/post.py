"""A forum post: its text with every earlier version, reactions, flags and moderation state."""

from __future__ import annotations

from dataclasses import dataclass

from services.messaging.domain.errors import Forbidden, Missing
from services.messaging.domain.events import (
    ModerationFields,
    PostCreated,
    PostEdited,
    PostFlagged,
    PostHidden,
    PostRemoved,
    PostRestored,
    Quote,
    ReactionAdded,
    ReactionRemoved,
    Statement,
)
from shared.domain import Aggregate, DomainError, applies

MODERATION: dict[str, type[ModerationFields]] = {
    "flag": PostFlagged,
    "hide": PostHidden,
    "remove": PostRemoved,
    "restore": PostRestored,
}


def post_id(community: str, post: str) -> str:
    return f"{community}.post.{post}"


@dataclass(frozen=True)
class Version:
    at_ns: int
    title: str
    body: str
    by: str


class Post(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.post = aggregate_id.rsplit(".", 1)[-1]
        self.thread = ""
        self.category = ""
        self.by = ""
        self.quote: Quote | None = None
        self.mentions: tuple[str, ...] = ()
        self.versions: list[Version] = []
        self.state = "visible"  # visible | hidden | removed
        self.reactions: dict[str, set[str]] = {}
        self.flags: dict[str, str] = {}
        self.moderated_by = ""  # the moderator whose hide or removal stands  # flagger did -> reason

    @property
    def title(self) -> str:
        return self.versions[-1].title

    @property
    def body(self) -> str:
        return self.versions[-1].body

    def create(
        self,
        *,
        thread: str,
        category: str,
        title: str,
        body: str,
        by: str,
        quote: Quote | None,
        mentions: tuple[str, ...],
        statement: Statement,
        now: int,
    ) -> None:
        if self.version:
            raise DomainError("post_exists", f"post {self.post} already exists")
        self.trigger(
            PostCreated,
            now,
            post=self.post,
            thread=thread,
            category=category,
            title=title,
            body=body,
            by=by,
            quote=quote,
            mentions=mentions,
            statement=statement,
        )

    def require_visible(self) -> None:
        if self.state != "visible":
            raise Missing("unknown_post", f"there is no post {self.post}")

    def edit(self, *, title: str, body: str, by: str, statement: Statement, now: int) -> None:
        self.require_visible()
        if by != self.by:
            raise Forbidden("not_your_post", "only its author edits a post")
        if self.title and not title:
            title = self.title
        if not self.title:
            title = ""  # a reply has no title of its own
        if (title, body) == (self.title, self.body):
            return
        self.trigger(
            PostEdited,
            now,
            post=self.post,
            thread=self.thread,
            category=self.category,
            title=title,
            body=body,
            by=by,
            statement=statement,
        )

    def react(self, *, reaction: str, by: str, add: bool, statement: Statement, now: int) -> None:
        self.require_visible()
        has = by in self.reactions.get(reaction, set())
        if add and not has:
            self.trigger(ReactionAdded, now, target=self.post, reaction=reaction, by=by, statement=statement)
        elif not add and has:
            self.trigger(
                ReactionRemoved, now, target=self.post, reaction=reaction, by=by, statement=statement
            )

    def moderate(self, *, action: str, by: str, reason: str, statement: Statement, now: int) -> None:
        if action == "flag":
            self.require_visible()
            if by in self.flags:
                raise DomainError("already_flagged", "you flagged this post already")
        elif action == "restore" and self.state == "visible":
            raise DomainError("not_moderated", "this post is visible; there is nothing to restore")
        elif action in ("hide", "remove") and self.state == ("hidden" if action == "hide" else "removed"):
            raise DomainError("already_moderated", f"this post is already {self.state}")
        self.trigger(
            MODERATION[action],
            now,
            post=self.post,
            thread=self.thread,
            category=self.category,
            by=by,
            reason=reason,
            statement=statement,
        )

    @applies(PostCreated)
    def _created(self, event: PostCreated) -> None:
        self.thread, self.category, self.by = event.thread, event.category, event.by
        self.quote, self.mentions = event.quote, event.mentions
        self.versions.append(Version(event.occurred_ns, event.title, event.body, event.by))

    @applies(PostEdited)
    def _edited(self, event: PostEdited) -> None:
        self.versions.append(Version(event.occurred_ns, event.title, event.body, event.by))

    @applies(ReactionAdded)
    def _reacted(self, event: ReactionAdded) -> None:
        self.reactions.setdefault(event.reaction, set()).add(event.by)

    @applies(ReactionRemoved)
    def _unreacted(self, event: ReactionRemoved) -> None:
        self.reactions.get(event.reaction, set()).discard(event.by)

    @applies(PostFlagged)
    def _flagged(self, event: PostFlagged) -> None:
        self.flags[event.by] = event.reason

    @applies(PostHidden)
    def _hidden(self, event: PostHidden) -> None:
        self.state, self.moderated_by = "hidden", event.by

    @applies(PostRemoved)
    def _removed(self, event: PostRemoved) -> None:
        self.state, self.moderated_by = "removed", event.by

    @applies(PostRestored)
    def _restored(self, event: PostRestored) -> None:
        self.state, self.flags, self.moderated_by = "visible", {}, ""
