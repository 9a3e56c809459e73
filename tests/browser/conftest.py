"""Headless Chromium (Debian's package, driven by Playwright) and a website on another origin.

The website is http://localhost:3000, one of the origins the local settings allow (CORS): its pages
are answered by the browser context itself (Playwright routes), so no server and no port is needed
for it, while the banner and the API come from the local Functions host on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SITE = "http://localhost:3000"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # The website's pages are answered by Playwright's routes, so Chromium knows no address for them
    # and would treat the site as public and its calls to the loopback API as local-network access.
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests",
]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


def serve_site(context: BrowserContext, pages: dict[str, str]) -> None:
    """Answer the website's paths from ``pages`` (path → HTML); anything else on it is a 404."""

    def answer(route: Route) -> None:
        path = route.request.url.removeprefix(SITE).split("?")[0]
        body = pages.get(path)
        if body is None:
            route.fulfill(status=404, body="not found")
        else:
            route.fulfill(status=200, body=body, content_type="text/html; charset=utf-8")

    context.route(f"{SITE}/**", answer)


def axe_violations(page: Page, selector: str | None = None) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA (2.2 included) violations on the page, or within ``selector``."""
    if not page.evaluate("typeof axe !== 'undefined'"):  # evaluated by the driver: the page's CSP stays in force
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
    result: dict[str, Any] = page.evaluate(
        "([context, options]) => axe.run(context || document, options)", [selector, options]
    )
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]]


PageErrors = Callable[[], list[str]]


def collect_page_errors(page: Page) -> PageErrors:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return lambda: errors


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """Screenshots kept as test artifacts in .artifacts/browser/ (one file per test and step)."""
    folder = ROOT / ".artifacts" / "browser"
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, step: str) -> None:
        page.screenshot(path=folder / f"{request.node.name}-{step}.png", full_page=True, animations="disabled")

    return take
