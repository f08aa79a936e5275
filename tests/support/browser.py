"""A real headless Chromium for browser tests: Debian's ``chromium``, driven by Playwright with
``executable_path`` (never a downloaded browser).

Without chromium (or the playwright package) the test is skipped with the reason and how to get
it, unless ``KT_JIRA_REQUIRE_BROWSER=1`` (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import pytest

REQUIRE_BROWSER_ENV = "KT_JIRA_REQUIRE_BROWSER"
CANDIDATES = ("chromium", "chromium-browser")


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_BROWSER_ENV, "") == "1":
        pytest.fail(f"{reason} ({REQUIRE_BROWSER_ENV}=1 requires the browser)", pytrace=False)
    pytest.skip(
        f"{reason}; install it with `apt-get install chromium`, "
        f"or set {REQUIRE_BROWSER_ENV}=1 to fail instead"
    )


def chromium_path() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    _unavailable("Debian's chromium is not on PATH")


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A launched headless browser; closed on leaving."""
    path = chromium_path()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (it is in the dev extra)")
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=path, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            await browser.close()
