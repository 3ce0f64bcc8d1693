"""Members comment on one post at the same moment: every comment is on the post's one aggregate, so
a save may lose the race to another member's. The social router decides a lost save again on the
fresh post (`shared/retry.py`): every comment is kept and nobody is told to try again."""

from __future__ import annotations

import asyncio
from typing import Any

from services.social.domain.commands import CommentsQuery
from shared.retry import retrying

from .test_social_support import world


async def test_a_comment_whose_save_lost_to_another_is_kept_with_the_winners() -> None:
    w = world()
    ada, bea, cy = w.member("Ada"), w.member("Bea"), w.member("Cy")
    post = await w.publish(ada, "Cover crops")
    original = w.handlers.save
    raced: list[str] = []

    async def save(*aggregates: Any) -> None:
        if not raced:  # Cy's comment lands between Bea's load of the post and her save
            raced.append("cy")
            await retrying(lambda: w.handlers.comment(w.act(cy, "comment", {"post": post, "text": "Rye!"})))
        await original(*aggregates)

    w.handlers.save = save  # type: ignore[method-assign]
    command = w.act(bea, "comment", {"post": post, "text": "Which species?"})
    answer = await retrying(lambda: w.handlers.comment(command))
    w.handlers.save = original  # type: ignore[method-assign]

    assert raced == ["cy"]
    assert answer["text"] == "Which species?"
    thread = await w.handlers.list_comments(CommentsQuery(w.community, post, ada.did))
    kept = [(c["by"], c["text"]) for c in thread["comments"]]
    assert kept == [(cy.did, "Rye!"), (bea.did, "Which species?")]


async def test_many_members_commenting_at_once_are_all_kept() -> None:
    w = world()
    ada = w.member("Ada")
    people = [w.member(f"M{i}") for i in range(8)]
    post = await w.publish(ada, "Seed swap")
    commands = [w.act(p, "comment", {"post": post, "text": f"I bring {p.did[-4:]}"}) for p in people]
    answers = await asyncio.gather(*(retrying(lambda c=c: w.handlers.comment(c)) for c in commands))
    assert len({a["comment"] for a in answers}) == len(people)
    thread = await w.handlers.list_comments(CommentsQuery(w.community, post, ada.did))
    assert sorted(c["by"] for c in thread["comments"]) == sorted(p.did for p in people)
