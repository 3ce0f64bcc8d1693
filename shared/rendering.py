"""Sanitised rendering of what members write: Markdown with raw HTML off, then an nh3 allow-list.

Used for announcements, forum posts, blog posts and comments alike. No images are rendered at all:
a remote image would be a tracking pixel reporting every reader to its host. Links get
`rel="nofollow noopener noreferrer ugc"`; only http, https and mailto survive.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"]).disable("image")
TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "code": {"class"}, "th": {"align"}, "td": {"align"}}


def render(markdown: str) -> str:
    """HTML safe to place in a page or an email, whatever the member typed."""
    return nh3.clean(
        _MARKDOWN.render(markdown),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer ugc",
    )
