"""A website on another origin for the browser tests and the web benchmark: http://localhost:3000,
one of the origins the local settings allow (CORS). Its pages are answered by the browser context
itself (Playwright routes), so no server and no port is needed for it, while the banner and the API
come from the local Functions host on 127.0.0.1."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Route

from functions.web.assets import current

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

# Tags a shop marks with their category: they run once each, in order, when it is granted.
TAGS = """
<script type="text/plain" data-category="analytics">window.ran = (window.ran || []).concat("analytics-1")</script>
<script type="text/plain" data-category="marketing">window.ran = (window.ran || []).concat("marketing-1")</script>
<script type="text/plain" data-category="analytics" src="/tag-2.js"></script>
<script type="text/plain" data-category="analytics">window.ran = (window.ran || []).concat("analytics-3")</script>
"""


def site_page(api: str, attributes: str = "") -> str:
    banner = current("banner.js")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A shop</title>
<script src="{api}/web/js/{banner.file_name}" integrity="{banner.integrity}" crossorigin="anonymous"
        data-api="{api}" {attributes}></script>
{TAGS}</head><body><main><h1>A shop</h1><p><a href="#" data-cookie-settings>Cookie settings</a></p>
<button type="button" id="buy">Buy</button></main></body></html>"""


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
