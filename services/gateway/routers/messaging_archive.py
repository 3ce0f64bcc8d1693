"""Communicate's public archive: the announcements a community's admins published, for anyone.

No session: like the PLANET blog (`routers/social.py`), anyone reads them, and each comes with the
document the community signed (an `AnnouncementCredential`), exactly as recorded, so a reader can
check with `cos vc verify` that the community said it. Only announcements to every member can be
there; one for a segment, one never published or withdrawn, and one that does not exist are all
the same typed 404 (`unknown_announcement`), so the archive never tells what members were sent.

The same address answers a person (`Accept: text/html`: a page, with the Atom feed linked) and a
program (JSON). Every answer carries an ETag and `Cache-Control: public, no-cache`: a cache may
keep it but asks each time (304 when unchanged), so a withdrawal shows at once. Anonymous readers
share the gateway's rate limits per address (`COS_RATE_*`), as every other read.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from nats.aio.client import Client as NATS
from pydantic import BaseModel, Field

from services.gateway.deps import Nats
from services.gateway.errors import ErrorBody, GatewayError
from services.gateway.forward import forward
from services.gateway.routers.auth import ERRORS, Community

ORDER = 61
router = APIRouter(prefix="/c/{community}/announcements", tags=["communicate: public archive"])
Ident = Annotated[str, Path(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
Limit = Annotated[int, Query(ge=1, le=100, description="how many, newest first (at most 100)")]
Cursor = Annotated[
    str | None,
    Query(pattern=r"^\d{1,20}-[A-Za-z0-9_\-]{1,64}$", description="the `next` of the previous page"),
]
ARCHIVE_ERRORS: dict[int | str, dict[str, Any]] = ERRORS | {429: {"model": ErrorBody}}
PAGE = {"content": {"text/html": {}}, "description": "JSON for programs; a page when text/html is asked for"}
ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
EPOCH = "1970-01-01T00:00:00Z"  # `updated` of an archive nothing was ever published in
# Characters XML 1.0 cannot carry at all (escaping does not help): left out of the feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEADERS = {
    "cache-control": "public, no-cache",
    "x-content-type-options": "nosniff",
}
_PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}


class ArchiveCommunity(BaseModel):
    id: str
    name: str
    did: str | None = Field(description="the DID its announcements are signed by")


class ArchivedAnnouncement(BaseModel):
    id: str
    title: str
    body_html: str = Field(description="the Markdown body, sanitised as the app renders it")
    sent_at: str = Field(description="RFC 3339")
    url: str = Field(description="its page in the archive")
    document: dict[str, Any] = Field(description="the AnnouncementCredential the community signed")


class Archive(BaseModel):
    community: ArchiveCommunity
    announcements: list[ArchivedAnnouncement]
    next: str | None = Field(description="`before` for the next (older) page; null on the last")
    feed: str = Field(description="the Atom feed")


class OneArchived(ArchivedAnnouncement):
    community: ArchiveCommunity


def _person(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _base(request: Request, community: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/c/{quote(community, safe='')}/announcements/archive"


def _with_urls(base: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "title": entry["title"],
        "body_html": entry["body_html"],
        "sent_at": entry["sent_at"],
        "url": f"{base}/{quote(entry['id'], safe='')}",
        "document": entry["document"],
    }


def _conditional(request: Request, response: Response, modified: str | None, vary: bool) -> Response:
    """ETag (of the exact bytes), Last-Modified, caching; 304 when the client has these bytes."""
    etag = '"' + hashlib.sha256(bytes(response.body)).hexdigest()[:32] + '"'
    headers = dict(_HEADERS) | {"etag": etag}
    if vary:
        headers["vary"] = "Accept"
    if modified:
        headers["last-modified"] = format_datetime(
            datetime.fromisoformat(modified).astimezone(UTC), usegmt=True
        )
    asked = request.headers.get("if-none-match", "")
    if asked.strip() == "*" or etag in {tag.strip().removeprefix("W/") for tag in asked.split(",")}:
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


async def _ask(nc: NATS, command: str, community: str, **fields: Any) -> Any:
    query = {"community": community} | {k: v for k, v in fields.items() if v is not None}
    return await forward(nc, "messaging", command, query)


@router.get("/archive", responses=ARCHIVE_ERRORS | {200: PAGE}, response_model=Archive)
async def archive(
    request: Request, community: Community, nc: Nats, before: Cursor = None, limit: Limit = 20
) -> Response:
    """The announcements the community published, newest first, each with its signed document."""
    person, base = _person(request), _base(request, community)
    try:
        found = await _ask(nc, "archive", community, before=before, limit=limit)
    except GatewayError as error:
        if not person:
            raise
        return _error_page(error)
    entries = [_with_urls(base, e) for e in found["announcements"]]
    if person:
        page = _archive_page(found["community"], entries, base, found["next"])
        return _conditional(request, page, found["updated"], vary=True)
    content = {"community": found["community"], "announcements": entries, "next": found["next"]}
    body = JSONResponse(content | {"feed": f"{base}.atom"})
    return _conditional(request, body, found["updated"], vary=True)


@router.get("/archive.atom", responses=ARCHIVE_ERRORS | {200: {"content": {"application/atom+xml": {}}}})
async def archive_feed(
    request: Request, community: Community, nc: Nats, before: Cursor = None, limit: Limit = 20
) -> Response:
    """The archive as an Atom 1.0 feed (RFC 4287): an entry per published announcement, its HTML
    sanitised, linked to its page and to its signed document."""
    found = await _ask(nc, "archive", community, before=before, limit=limit)
    base = _base(request, community)
    entries = [_with_urls(base, e) for e in found["announcements"]]
    query = {"before": before, "limit": limit if limit != 20 else None}
    self_url = f"{base}.atom" + _query(query)
    next_url = (
        f"{base}.atom" + _query({"before": found["next"], "limit": query["limit"]}) if found["next"] else None
    )
    xml = atom_feed(found["community"], entries, found["updated"] or EPOCH, base, self_url, next_url)
    return _conditional(request, Response(xml, media_type=ATOM_TYPE), found["updated"], vary=False)


@router.get("/archive/{announcement}", responses=ARCHIVE_ERRORS | {200: PAGE}, response_model=OneArchived)
async def archived(request: Request, community: Community, announcement: Ident, nc: Nats) -> Response:
    """One published announcement with its signed document (a page for a person)."""
    person, base = _person(request), _base(request, community)
    try:
        found = await _ask(nc, "archived", community, announcement=announcement)
    except GatewayError as error:
        if not person:
            raise
        return _error_page(error)
    entry = _with_urls(base, found)
    if person:
        return _conditional(request, _one_page(found["community"], entry, base), entry["sent_at"], vary=True)
    return _conditional(
        request, JSONResponse(entry | {"community": found["community"]}), entry["sent_at"], vary=True
    )


@router.get("/archive/{announcement}/document", responses=ARCHIVE_ERRORS)
async def archived_document(
    request: Request, community: Community, announcement: Ident, nc: Nats
) -> Response:
    """The community's signed AnnouncementCredential alone: save it and run `cos vc verify` on it."""
    found = await _ask(nc, "archived", community, announcement=announcement)
    return _conditional(request, JSONResponse(found["document"]), found["sent_at"], vary=False)


def _query(params: dict[str, Any]) -> str:
    given = {k: v for k, v in params.items() if v is not None}
    return "?" + urlencode(given) if given else ""


# -- Atom -----------------------------------------------------------------------------------------


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def atom_feed(
    community: dict[str, Any],
    entries: list[dict[str, Any]],
    updated: str,
    base: str,
    self_url: str,
    next_url: str | None = None,
) -> bytes:
    """An Atom 1.0 document built with ElementTree (which escapes every text and attribute).

    Ids are the IRIs the signed documents name as their subject (`urn:cos:<c>:announcement:<id>`):
    stable wherever the community is hosted, and tying each entry to what was signed."""
    feed = ET.Element("feed", {"xmlns": ATOM})
    name = str(community["name"])
    _sub(feed, "id", f"urn:cos:{community['id']}:announcements")
    _sub(feed, "title", f"{name}: announcements")
    signer = f"Announcements of {name}, each signed by the community"
    _sub(feed, "subtitle", f"{signer} ({community['did']})" if community.get("did") else signer)
    _sub(feed, "updated", updated)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=base)
    if next_url:
        _sub(feed, "link", rel="next", type="application/atom+xml", href=next_url)  # RFC 5005
    author = _sub(feed, "author")
    _sub(author, "name", name)
    _sub(feed, "generator", "Community OS")
    for entry in entries:
        subject = entry["document"].get("credentialSubject")
        ident = subject.get("id") if isinstance(subject, dict) else None
        item = _sub(feed, "entry")
        _sub(item, "id", str(ident or f"urn:cos:{community['id']}:announcement:{entry['id']}"))
        _sub(item, "title", entry["title"], type="text")
        _sub(item, "published", entry["sent_at"])
        _sub(item, "updated", entry["sent_at"])
        _sub(item, "link", rel="alternate", type="text/html", href=entry["url"])
        _sub(
            item,
            "link",
            rel="related",
            type="application/json",
            title="the document the community signed (cos vc verify)",
            href=f"{entry['url']}/document",
        )
        _sub(item, "content", entry["body_html"], type="html")
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))


# -- pages for people -------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "article{border-top:1px solid #ccc;padding:1rem 0}.meta{color:#555;font-size:.9rem}"
    "code{overflow-wrap:anywhere}"
)


def _html(title: str, body: str, feed: str | None, status: int = 200) -> HTMLResponse:
    """A page; `body` is markup built here (every value escaped, member HTML sanitised)."""
    alternate = (
        f'<link rel="alternate" type="application/atom+xml" title="{escape(title)}" href="{escape(feed)}">'
        if feed
        else ""
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>{alternate}<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(page, status_code=status, headers=_PAGE_HEADERS)


def _when(sent_at: str) -> str:
    return datetime.fromisoformat(sent_at).astimezone(UTC).strftime("%d %B %Y, %H:%M UTC")


def _article(entry: dict[str, Any], heading: str) -> str:
    url, sent, title = escape(entry["url"]), escape(entry["sent_at"]), escape(entry["title"])
    return (
        f'<article id="{escape(entry["id"])}"><{heading}><a href="{url}">{title}</a></{heading}>'
        f'<p class="meta"><time datetime="{sent}">{escape(_when(entry["sent_at"]))}</time> · '
        f'<a href="{url}/document">signed document</a></p>'
        f"<div>{entry['body_html']}</div></article>"
    )


def _signed_by(community: dict[str, Any]) -> str:
    did = community.get("did")
    who = f" (<code>{escape(did)}</code>)" if did else ""
    return (
        f"Each announcement here is signed by {escape(community['name'])}{who}: "
        "save its signed document and check it with <code>cos vc verify</code>."
    )


def _archive_page(
    community: dict[str, Any], entries: list[dict[str, Any]], base: str, next_cursor: str | None
) -> HTMLResponse:
    title = f"Announcements of {community['name']}"
    items = "".join(_article(e, "h2") for e in entries) or "<p>Nothing has been published here yet.</p>"
    older_url = escape(base + _query({"before": next_cursor}))
    older = f'<nav><a rel="next" href="{older_url}">Older announcements</a></nav>' if next_cursor else ""
    body = (
        f"<header><h1>{escape(title)}</h1><p>{_signed_by(community)}</p>"
        f'<p><a href="{escape(base)}.atom">Atom feed</a></p></header><main>{items}</main>{older}'
    )
    return _html(title, body, f"{base}.atom")


def _one_page(community: dict[str, Any], entry: dict[str, Any], base: str) -> HTMLResponse:
    name = str(community["name"])
    body = (
        f'<header><p><a href="{escape(base)}">Announcements of {escape(name)}</a> · '
        f'<a href="{escape(base)}.atom">Atom feed</a></p></header>'
        f'<main>{_article(entry, "h1")}<p class="meta">{_signed_by(community)}</p></main>'
    )
    return _html(f"{entry['title']} — {name}", body, f"{base}.atom")


def _error_page(error: GatewayError) -> HTMLResponse:
    said = {
        "unknown_announcement": "There is no such announcement in this archive.",
        "unknown_community": "There is no such community here.",
    }.get(error.type, f"{error.message}.")
    body = f"<h1>Not here</h1><p>{escape(said)}</p>"
    response = _html("Not here", body, None, status=error.status)
    response.headers["cache-control"] = "no-store"
    return response
