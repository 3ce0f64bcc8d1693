"""Browser tests: Debian's Chromium, driven by Playwright, against the whole platform in a process.

Chromium runs headless with no sandbox, GPU or background networking, from a fresh user-data
directory per test; Playwright never downloads a browser. Screenshots land in
`test-artifacts/screenshots/` at the top of the repository.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.browser.stack import Stack, running_stack

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
T = TypeVar("T")

# What a screen shows after an act goes through the gateway, a service or two and the redraw's own
# requests: on a loaded CI runner that can take longer than Playwright's 5 s default, so every
# `expect` waits up to 15 s (it returns as soon as the page shows it).
expect.set_options(timeout=15_000)


def _chromium() -> Path:
    if not CHROMIUM.exists():
        subprocess.run([str(ROOT / "scripts" / "ensure-chromium")], check=False, timeout=600)
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is not at /usr/bin/chromium and scripts/ensure-chromium could not install it"
        )
    return CHROMIUM


def eventually(check: Callable[[], T], within: float = 30.0, every: float = 0.25) -> T:
    """The first truthy result of `check()` (a question on the bus, a mail on disk), polled until
    `within` seconds have passed, then the last result, so the caller's assertion shows what it
    found (`shared.testkit.polling.eventually` for these synchronous tests)."""
    deadline = time.monotonic() + within
    result = check()
    while not result and time.monotonic() < deadline:
        time.sleep(every)
        result = check()
    return result


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("platform")) as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Per module: Playwright's sync API keeps an event loop running in this thread while it is
    open, which the asyncio tests of other modules must not find there."""
    _chromium()
    with sync_playwright() as driver:
        yield driver


def launch(playwright: Playwright, profile: Path) -> BrowserContext:
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(_chromium()),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=PHONE,
        device_scale_factor=1,
        is_mobile=False,
        has_touch=True,
        service_workers="allow",
    )


class Browser:
    """A page in a fresh Chromium profile that fails the test on any script error."""

    def __init__(self, context: BrowserContext, name: str) -> None:
        self.context = context
        self.page: Page = context.new_page()
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)
        self.shots = 0

    def _console(self, message: ConsoleMessage) -> None:
        # A refused request (a typed 4xx the app shows) is logged by Chromium; a script error is not that.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def screenshot(self, step: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@contextlib.contextmanager
def live_stream_opened(browser: Browser) -> Iterator[None]:
    """Around what (re)draws a screen that follows the live stream: returns once the screen's
    stream is subscribed (the app's `<body data-live="open">`, set at the gateway's `ready`). A
    screen opens its stream after it paints, so a test waits for this before another member acts;
    a screen that redraws itself keeps its stream."""
    yield
    expect(browser.page.locator("body")).to_have_attribute("data-live", "open", timeout=30_000)


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Browser]:
    context = launch(playwright, tmp_path / "profile")
    opened = Browser(context, request.node.name)
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="module")
def shared_browser(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Browser]:
    """One fresh profile for a whole module, for tests that only run code in a page."""
    context = launch(playwright, tmp_path_factory.mktemp("profile"))
    opened = Browser(context, request.module.__name__.rsplit(".", 1)[-1])
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def new_browser(
    playwright: Playwright, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], Browser]]:
    """More people, each in her own fresh Chromium profile (closed when the test ends)."""
    opened: list[Browser] = []

    def make(label: str) -> Browser:
        context = launch(playwright, tmp_path / f"profile-{len(opened) + 1}")
        opened.append(Browser(context, f"{request.node.name}-{label}"))
        return opened[-1]

    try:
        yield make
    finally:
        for each in opened:
            each.context.close()
