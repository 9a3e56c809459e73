"""The privacy page as the function app serves it: web/privacy.html with this deployment's values."""

from __future__ import annotations

import html
from functools import cache
from urllib.parse import urlsplit

from functions.web.assets import WEB


@cache
def _template() -> str:
    return (WEB / "privacy.html").read_text(encoding="utf-8")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def privacy_page(
    *, api: str, script: str, css: str, policy_url: str, token_origins: list[str]
) -> tuple[str, dict[str, str]]:
    """The page and its headers: scripts and styles from this API's origin only, framed only by the
    origins that may hand it a token (the dashboard)."""
    values = {
        "api": api,
        "script": script,
        "css": css,
        "policyUrl": policy_url,
        "tokenOrigins": ",".join(token_origins),
    }
    page = _template()
    for name, value in values.items():
        page = page.replace("{{" + name + "}}", html.escape(value, quote=True))
    own = _origin(api)
    ancestors = " ".join(["'self'", *token_origins])
    policy = (
        f"default-src 'none'; script-src {own}; style-src {own}; connect-src {own}; img-src {own} data:; "
        f"form-action 'none'; base-uri 'none'; frame-ancestors {ancestors}"
    )
    headers = {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }
    return page, headers
