"""Browser-test fixtures: the server to walk and Debian's Chromium through Playwright.

`base_url` is the `live_server` fixture (tests/conftest.py: uvicorn with demo data and the embedded
job worker) unless SERVICELENS_E2E_BASE_URL points at a server that is already running.
Screenshots go to screenshots/ (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, VIEWPORT, Api, watch_errors


@pytest.fixture
def base_url(request: pytest.FixtureRequest) -> str:
    override = os.environ.get("SERVICELENS_E2E_BASE_URL")
    if override:
        return override.rstrip("/")
    return str(request.getfixturevalue("live_server")).rstrip("/")


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    """JavaScript errors of the pages opened with `watch_errors`; the test fails if there are any."""
    errors: list[str] = []
    yield errors
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def page(browser: Any, page_errors: list[str]) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    try:
        yield watch_errors(context.new_page(), page_errors)
    finally:
        context.close()


@pytest.fixture
def api(base_url: str) -> Iterator[Api]:
    client = Api(base_url)
    yield client
    client.http.close()
