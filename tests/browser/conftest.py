"""Browser tests: Playwright (sync API) driving Debian's headless chromium.

One browser per test session; every test gets a fresh context (cookies, storage)
and page, bound to pytest-django's ``live_server``. The context asks for
Simplified Chinese, as most of the platform's users' browsers do. Mark tests
``@pytest.mark.browser``; scripts/test-suite.sh runs them on SQLite.

We use the plain ``playwright`` package, not the pytest-playwright plugin, which
would download its own browsers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)

CHROMIUM = os.environ.get("TONGBAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/system-deps.sh does it in CI)")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def new_context(browser: Browser, base_url: str, *, locale: str = "zh-CN") -> BrowserContext:
    """Return a fresh browser context (no cookies) that asks for ``locale``."""
    context = browser.new_context(base_url=base_url, locale=locale, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = new_context(browser, live_server.url)
    yield context
    context.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page logged: script errors and Content-Security-Policy violations."""
    return []


@pytest.fixture
def page(context: BrowserContext, console_errors: list[str]) -> Iterator[Page]:
    page = context.new_page()

    def remember(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", remember)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    yield page
    page.close()


def csp_violations(console_errors: list[str]) -> list[str]:
    """Return the Content-Security-Policy violations among ``console_errors``."""
    return [text for text in console_errors if "Content Security Policy" in text]
