"""``python -m benchmarks.web``: the banner's weight and its page load, in headless Chromium.

Prints (a) the banner script's size, raw and gzipped, its CSS included, beside vanilla-cookieconsent
3.1's JS and CSS (from npm, the same files websites ship); (b) the requests a page load makes to the
API, on a first visit and on a returning visitor's visit; (c) the time from DOMContentLoaded to the
banner shown on a first visit, ours and vanilla-cookieconsent's on the same page, interleaved run by
run (ours waits for the server's answer, which vanilla-cookieconsent does not ask for).
"""

from __future__ import annotations

import gzip
import shutil
import statistics
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Route, sync_playwright

from devstack.services import StackPorts
from devstack.stack import LocalStack
from devstack.website import CHROMIUM_FLAGS, SITE, serve_site, site_page
from functions.web.assets import current

ROOT = Path(__file__).resolve().parents[1]
VANILLA = ROOT / "node_modules" / "vanilla-cookieconsent" / "dist"
RUNS = 20
SHOWN = "performance.getEntriesByName('privacy-banner-shown')[0]?.startTime"
DCL = "performance.getEntriesByType('navigation')[0].domContentLoadedEventStart"
VANILLA_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A shop</title>
<link rel="stylesheet" href="/cc.css"><script src="/cc.js"></script>
<script>new MutationObserver((m, o) => { if (document.querySelector('#cc-main .cm')) {
  performance.mark('privacy-banner-shown'); o.disconnect(); } })
  .observe(document.documentElement, {subtree: true, childList: true});
document.addEventListener('DOMContentLoaded', () => CookieConsent.run({
  hideFromBots: false,  // it hides itself from automated browsers by default
  categories: {necessary: {readOnly: true, enabled: true}, analytics: {}, marketing: {}},
  language: {default: 'en', translations: {en: {
    consentModal: {title: 'Cookies on this site', description: 'We use cookies.', acceptAllBtn: 'Accept all',
                   acceptNecessaryBtn: 'Reject all', showPreferencesBtn: 'Customize'},
    preferencesModal: {title: 'Cookie preferences', sections: []}}}}}));
</script></head><body><main><h1>A shop</h1></main></body></html>"""


def kib(size: int) -> str:
    return f"{size / 1024:5.1f} KiB"


def size_figures() -> None:
    ours = current("banner.js").body
    js, css = (VANILLA / "cookieconsent.umd.js").read_bytes(), (VANILLA / "cookieconsent.css").read_bytes()
    ours_gz, js_gz, css_gz = (len(gzip.compress(b, 9)) for b in (ours, js, css))
    print("(a) size of the banner (gzip -9)")
    print(f"    ours, CSS inside:           raw {kib(len(ours))}  gzipped {kib(ours_gz)}  (goal under 6 KiB)")
    print(f"    vanilla-cookieconsent JS:   raw {kib(len(js))}  gzipped {kib(js_gz)}")
    print(f"    vanilla-cookieconsent CSS:  raw {kib(len(css))}  gzipped {kib(css_gz)}")
    raw_ratio = len(ours) / (len(js) + len(css))
    print(f"    ours / vanilla JS+CSS:      {ours_gz / (js_gz + css_gz):.2f} gzipped, {raw_ratio:.2f} raw")


def _context(browser: Browser, api: str) -> BrowserContext:
    context = browser.new_context()
    serve_site(context, {"/": site_page(api), "/vanilla": VANILLA_PAGE})
    for name, file, media in (
        ("cc.js", "cookieconsent.umd.js", "text/javascript"),
        ("cc.css", "cookieconsent.css", "text/css"),
    ):
        context.route(f"{SITE}/{name}", _file_route((VANILLA / file).read_bytes(), media))
    return context


def _file_route(body: bytes, media: str) -> Callable[[Route], None]:
    return lambda route: route.fulfill(body=body, content_type=media)


def request_figures(browser: Browser, api: str) -> None:
    context = _context(browser, api)
    page = context.new_page()
    calls: list[str] = []
    page.on(
        "request", lambda r: calls.append(f"{r.method} {r.url.removeprefix(api)}") if r.url.startswith(api) else None
    )
    page.goto(f"{SITE}/")
    page.get_by_role("dialog").wait_for()
    page.wait_for_timeout(500)
    first = list(calls)
    page.get_by_role("button", name="Reject all").click()
    page.wait_for_function("localStorage.getItem('privacy_visitor:pending') === null")
    calls.clear()
    page.reload()
    page.wait_for_function("privacyBanner.categories().necessary === true")
    page.wait_for_timeout(500)
    print(
        "(b) requests to the API on page load, besides the banner script (immutable, cached a year)"
        " (goal: one GET of the visitor's choices, whose answer carries the notice board)"
    )
    for visit, made in (("first visit", first), ("returning visit", calls)):
        api_calls = [c for c in made if "/web/js/" not in c]
        print(f"    {visit + ':':17} {len(api_calls)}  {api_calls}")
    context.close()


def shown_figures(browser: Browser, api: str) -> None:
    samples: dict[str, list[float]] = {"ours": [], "vanilla-cookieconsent": []}
    for _ in range(RUNS):  # interleaved: each run opens both pages in fresh profiles
        for name, path in (("ours", "/"), ("vanilla-cookieconsent", "/vanilla")):
            context = _context(browser, api)
            page = context.new_page()
            page.goto(f"{SITE}{path}")
            page.wait_for_function(f"{SHOWN} !== undefined")
            samples[name].append(page.evaluate(f"{SHOWN} - {DCL}"))
            context.close()
    print(f"(c) DOMContentLoaded to banner shown, first visit, {RUNS} interleaved runs")
    for name, values in samples.items():
        deciles = statistics.quantiles(values, n=10)
        print(
            f"    {name:22} median {statistics.median(values):6.1f} ms  p10-p90 {deciles[0]:.1f}-{deciles[-1]:.1f} ms"
        )
    ratios = sorted(a / max(b, 0.1) for a, b in zip(samples["ours"], samples["vanilla-cookieconsent"], strict=True))
    print(f"    ours / vanilla-cookieconsent: median {statistics.median(ratios):.2f} (ours includes the API's answer)")


def main() -> None:
    warnings.simplefilter("ignore")
    size_figures()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is needed: make setup installs it"
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackPorts.free(), Path(state), persistent=False, settings_file=None)
        stack.start_backends()
        try:
            stack.start_functions_host()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
                request_figures(browser, stack.functions_url)
                shown_figures(browser, stack.functions_url)
                browser.close()
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
