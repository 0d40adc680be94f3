"""Browser fixtures: Debian's headless Chromium driven by Playwright, failing on console errors.

Playwright's own browser download is not used: the tests launch ``/usr/bin/chromium`` (override
with ``MOTORNET_CHROMIUM``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("MOTORNET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (scripts/test.sh does it as root)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class ConsoleWatch:
    """Console errors and uncaught page errors seen by a page; `allow` holds regexes to ignore."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allow: list[re.Pattern[str]] = []

    def on_console(self, msg) -> None:  # type: ignore[no-untyped-def]
        if msg.type == "error":
            self.errors.append(f"console.error: {msg.text} ({msg.location})")

    def on_pageerror(self, err) -> None:  # type: ignore[no-untyped-def]
        self.errors.append(f"pageerror: {err}")

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allow)]


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
def page(browser, console: ConsoleWatch, request: pytest.FixtureRequest) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh page (1400 x 1000); the test fails on any console error or uncaught exception."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(45_000)
    pg.on("console", console.on_console)
    pg.on("pageerror", console.on_pageerror)
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SCREENSHOTS / f"FAILED_{request.node.name}.png"), full_page=True)
    context.close()
    bad = console.unexpected()
    assert not bad, "browser console errors:\n" + "\n".join(bad)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def shot(page):  # type: ignore[no-untyped-def]
    """shot(NAME): save a full-page screenshot to test-artifacts/screenshots/NAME.png."""

    def _shot(name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
