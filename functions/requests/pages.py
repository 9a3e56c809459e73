"""The plain pages people see when they arrive from a mail link (no script, strict CSP)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import azure.functions as func

from core.pages import html_page
from functions.requests.lifecycle import RequestType

if TYPE_CHECKING:
    from functions.requests.request_record import DsrRequest


def confirm_form(token: str) -> func.HttpResponse:
    """Only the button's POST verifies: mail scanners follow GET links."""
    value = html.escape(token, quote=True)
    return html_page(
        "Confirm your privacy request",
        "<p>Press the button to confirm that you sent this request.</p><form method=post>"
        f'<input type=hidden name=token value="{value}"><button type=submit>Confirm my request</button></form>',
    )


def confirmed_page(request: DsrRequest) -> func.HttpResponse:
    what = "a copy of your personal data" if request.type == RequestType.ACCESS else "the erasure of your personal data"
    return html_page(
        "Thank you, your request is confirmed",
        f"<p>We are preparing {what} and will answer by email by {request.due_at.date().isoformat()} at the latest.</p>"
        f"<p>Reference: <code>{html.escape(request.id)}</code></p>",
    )
