"""Which Discuss thread a poll's discussion link names: the app's link, read as `list_polls` reads it."""

from __future__ import annotations

import pytest

from services.governance.projections.polls import thread_of


@pytest.mark.parametrize(
    ("link", "thread"),
    [
        ("#/forums?thread=oats", "oats"),
        ("#/forums?thread=oats&post=p9", "oats"),
        ("#/forums?post=p9&thread=oats_2-b", "oats_2-b"),
        ("#/forums", None),
        ("#/forums?category=general", None),
        ("#/forums?thread=", None),
        ("#/forums?thread=a&thread=b", None),
        ("#/forums?thread=a.b", None),
        ("#/forums?thread=oats%0A", None),
        ("#/forums?thread=" + "x" * 65, None),
        ("https://example.org/app/#/forums?thread=oats", None),
        ("#/polls?thread=oats", None),
        ("", None),
    ],
)
def test_only_an_in_app_thread_link_names_a_thread(link: str, thread: str | None) -> None:
    assert thread_of(link) == thread
