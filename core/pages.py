"""Plain HTML pages the service answers with where a person arrives from a mail link: no script,
a strict Content-Security-Policy, never cached."""

from __future__ import annotations

import html

import azure.functions as func

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def html_page(title: str, body: str, status: int = 200) -> func.HttpResponse:
    """``body`` is trusted markup of ours; anything from outside is escaped before it gets here."""
    page = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<body style='font-family:sans-serif;max-width:40em;margin:3em auto;padding:0 1em'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return func.HttpResponse(page, status_code=status, mimetype="text/html", charset="utf-8", headers=PAGE_HEADERS)


def problem_page(title: str, detail: str, status: int) -> func.HttpResponse:
    return html_page(title, f"<p>{html.escape(detail)}</p>", status)
