"""Posts and comments as safe HTML: Markdown with raw HTML off, then an nh3 allow-list.

No images are rendered: a remote image in a public post would report every reader to its host.
Links get `rel="nofollow noopener noreferrer ugc"`; only http, https and mailto survive.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"]).disable("image")
TAGS = frozenset(
    {
        "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li",
        "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "code": {"class"}, "th": {"align"}, "td": {"align"}}


def render(markdown: str) -> str:
    """HTML safe to place in a page, whatever the member wrote."""
    return nh3.clean(
        _MARKDOWN.render(markdown),
        tags=set(TAGS),
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
    )
