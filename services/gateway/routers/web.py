"""The web app members use: an installable PWA of plain ES modules, HTML and CSS (no build step).

Files under `services/gateway/web/` are served at `/app/…`; `/` sends a browser there. The app
shell carries a strict Content-Security-Policy (scripts and connections to this origin only),
so a script injected into a member's post or name has nothing to run. Only files that exist in
the directory at start-up are served, by exact name: there is no path to walk out of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.gateway.errors import GatewayError

ORDER = 900
router = APIRouter(include_in_schema=False)
WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
}
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
_SECURITY_HEADERS = {
    "content-security-policy": _CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",  # invite secrets live in the URL fragment; never leak the page
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}


@dataclass(frozen=True)
class _Asset:
    body: bytes
    media_type: str
    etag: str


def _load(root: Path) -> dict[str, _Asset]:
    assets: dict[str, _Asset] = {}
    if not root.is_dir():
        return assets
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in _TYPES:
            continue
        body = path.read_bytes()
        name = path.relative_to(root).as_posix()
        assets[name] = _Asset(body, _TYPES[path.suffix], '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return assets


ASSETS = _load(WEB_ROOT)


def _serve(name: str, request: Request) -> Response:
    asset = ASSETS.get(name)
    if asset is None:
        raise GatewayError(404, "not_found", f"no such page: /app/{name}")
    headers = dict(_SECURITY_HEADERS)
    headers["etag"] = asset.etag
    # Revalidate every time: the service worker keeps the app usable offline; this keeps it current.
    headers["cache-control"] = "no-cache"
    if name == "sw.js":
        headers["service-worker-allowed"] = "/app/"
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=307)


@router.get("/app")
async def app_without_slash() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=307)


@router.get("/app/")
async def app_shell(request: Request) -> Response:
    return _serve("index.html", request)


@router.get("/app/{name:path}")
async def app_file(name: str, request: Request) -> Response:
    return _serve(name, request)
