"""The plain pages people see when they arrive from a mail link (no script, strict CSP)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import azure.functions as func

from functions.requests.lifecycle import RequestType

if TYPE_CHECKING:
    from functions.requests.request_record import DsrRequest

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


def confirm_form(token: str) -> func.HttpResponse:
    """Only the button's POST verifies: mail scanners follow GET links."""
    value = html.escape(token, quote=True)
    return html_page(
        "Confirm your privacy request",
        "<p>Press the button to confirm that you sent this request.</p><form method=post>"
        f'<input type=hidden name=token value="{value}"><button type=submit>Confirm my request</button></form>',
    )


def problem_page(title: str, detail: str, status: int) -> func.HttpResponse:
    return html_page(title, f"<p>{html.escape(detail)}</p>", status)


def confirmed_page(request: DsrRequest) -> func.HttpResponse:
    what = "a copy of your personal data" if request.type == RequestType.ACCESS else "the erasure of your personal data"
    return html_page(
        "Thank you, your request is confirmed",
        f"<p>We are preparing {what} and will answer by email by {request.due_at.date().isoformat()} at the latest.</p>"
        f"<p>Reference: <code>{html.escape(request.id)}</code></p>",
    )
