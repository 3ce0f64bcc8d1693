"""How the gateway serves the web app's files: exact names only, strict headers, typed 404s."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.gateway.routers.web import ASSETS


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(GatewaySettings(nats_url="nats://127.0.0.1:1"), [])  # no bus needed for files
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client


async def test_the_shell_and_its_files_are_served_with_strict_headers(http: httpx.AsyncClient) -> None:
    root = await http.get("/")
    assert (root.status_code, root.headers["location"]) == (307, "/app/")
    shell = await http.get("/app/")
    assert shell.status_code == 200
    assert shell.headers["content-type"] == "text/html; charset=utf-8"
    csp = shell.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert shell.headers["x-content-type-options"] == "nosniff"
    assert shell.headers["referrer-policy"] == "no-referrer"
    assert '<script type="module" src="/app/js/app.js">' in shell.text
    again = await http.get("/app/", headers={"if-none-match": shell.headers["etag"]})
    assert again.status_code == 304

    script = await http.get("/app/js/crypto.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    worker = await http.get("/app/sw.js")
    assert worker.headers["service-worker-allowed"] == "/app/"
    manifest = await http.get("/app/manifest.webmanifest")
    assert manifest.headers["content-type"] == "application/manifest+json"
    for icon in json.loads(manifest.text)["icons"]:
        assert icon["src"].removeprefix("/app/") in ASSETS
    words = (await http.get("/app/bip39-english.txt")).text.split()
    assert len(words) == 2048


async def test_every_file_the_service_worker_caches_exists(http: httpx.AsyncClient) -> None:
    worker = (await http.get("/app/sw.js")).text
    listed = [line.strip().strip('",') for line in worker.splitlines() if line.strip().startswith('"/app/')]
    assert len(listed) > 5
    for path in listed:
        assert (await http.get(path)).status_code == 200, path


@pytest.mark.parametrize(
    "path",
    [
        "/app/nope.js",
        "/app/..%2f..%2fapp.py",
        "/app/%2e%2e/app.py",
        "/app/js/%2e%2e/%2e%2e/config.py",
        "/app/.hidden",
    ],
)
async def test_anything_else_is_a_typed_404(http: httpx.AsyncClient, path: str) -> None:
    answer = await http.get(path)
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "not_found"


async def test_the_web_routes_stay_out_of_the_api_document(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith("/app")]
    assert "/healthz" in paths
