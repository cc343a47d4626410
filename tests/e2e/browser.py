"""Helpers of the browser tests (Debian's Chromium through Playwright); fixtures are in conftest.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
TIMEOUT_MS = 15_000
ADMIN = ("admin", "admin12345")
VIEWPORT = {"width": 1440, "height": 900}


def watch_errors(pg: Any, errors: list[str]) -> Any:
    pg.set_default_timeout(TIMEOUT_MS)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    return pg


# The console scrolls inside its main area (the window does not), so a full-page shot grows the
# viewport to the height of that area for a moment.
_CONTENT_HEIGHT = """() => {
  const main = document.querySelector('.layout__main')
  return main ? main.scrollHeight + main.getBoundingClientRect().top : document.documentElement.scrollHeight
}"""


def shot(pg: Any, name: str, full_page: bool = True) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    # A background tab runs no animation frames, so transitions (popovers, toasts) never finish.
    pg.bring_to_front()
    size = pg.viewport_size
    height = int(pg.evaluate(_CONTENT_HEIGHT)) if full_page and size else 0
    if size and height > size["height"]:
        pg.set_viewport_size({"width": size["width"], "height": min(height, 4000)})
        pg.wait_for_timeout(200)
        try:
            pg.screenshot(path=str(path), full_page=True)
        finally:
            pg.set_viewport_size(size)
    else:
        pg.screenshot(path=str(path), full_page=full_page)
    return path


def wait_for_table(pg: Any, testid: str = "ticket-table") -> None:
    """A table has finished loading (no v-loading mask)."""
    from playwright.sync_api import expect

    expect(pg.locator(f'[data-testid="{testid}"] .el-loading-mask')).to_have_count(0)


class Api:
    """The admin's API session (cookie + CSRF header): a test sets up its own scenario with it
    instead of relying on what the dated, random demo data happens to hold."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=30)
        r = self.http.post("/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
        assert r.status_code == 200, r.text
        self.http.headers["X-CSRF-Token"] = r.json()["csrf_token"]

    def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        r = self.http.request(method, path, **kw)
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def cookies(self, base_url: str) -> list[dict[str, Any]]:
        return [{"name": c.name, "value": c.value or "", "url": base_url} for c in self.http.cookies.jar]
