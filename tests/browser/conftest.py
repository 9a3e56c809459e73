"""Headless Chromium (Debian's package, driven by Playwright), with axe-core and page-error checks;
the website on another origin that the tests open is devstack/website.py (the web benchmark's too)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


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
