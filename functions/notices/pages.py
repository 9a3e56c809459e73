"""The pages a person sees: the unsubscribe confirmation (GET shows a button, only the POST acts,
because mail scanners follow links) and the readable page of the public facts."""

from __future__ import annotations

import html

import azure.functions as func

from core.pages import html_page
from functions.notices.facts import PrivacyFacts

PURPOSE_NAMES = {"marketing-email": "marketing email", "push-notifications": "push notifications"}


def _named(purpose: str) -> str:
    return PURPOSE_NAMES.get(purpose, purpose)


def unsubscribe_form(token: str, purpose: str) -> func.HttpResponse:
    value = html.escape(token, quote=True)
    return html_page(
        "Unsubscribe",
        f"<p>Press the button to stop receiving {html.escape(_named(purpose))} from us.</p>"
        f'<form method=post action="?token={value}">'
        "<input type=hidden name=List-Unsubscribe value=One-Click>"
        "<button type=submit>Unsubscribe</button></form>"
        "<p>Messages we owe you, such as answers to your privacy requests or notices about your data, "
        "still reach you.</p>",
    )


def unsubscribed_page(purpose: str, already: bool) -> func.HttpResponse:
    what = html.escape(_named(purpose))
    first = f"You were already unsubscribed from {what}." if already else f"You are unsubscribed from {what}."
    return html_page(
        "You are unsubscribed",
        f"<p>{first}</p><p>You can subscribe again at any time from your privacy dashboard.</p>",
    )


def facts_page(facts: PrivacyFacts) -> func.HttpResponse:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(s.name)}</td><td>{e(s.purpose)}</td><td>{e(', '.join(s.data_categories))}</td>"
        f"<td>{e(s.location)}</td><td>{e(s.transfer_mechanism)}</td></tr>"
        for s in facts.declaration.subprocessors
    )
    purposes = "".join(
        f"<tr><td>{e(p.title)}</td><td>{e(p.description)}</td><td>{e(p.legal_basis)}</td>"
        f"<td>{'Your choice' if p.choice else 'Always on'}</td></tr>"
        for p in facts.purposes
    )
    retention = "".join(
        f"<tr><td>{e(r.items)}</td><td>{e(r.holder)}</td><td>{e(r.kept)}</td><td>{e(r.reason)}</td></tr>"
        for r in facts.retention
    )
    body = (
        f"<p>Sub-processors, revision {facts.declaration.revision} of {e(facts.declaration.updated)}.</p>"
        "<h2>Who processes personal data for us</h2><table><tr><th>Sub-processor</th><th>Purpose</th>"
        f"<th>Data</th><th>Location</th><th>Transfer mechanism</th></tr>{rows}</table>"
        "<h2>Purposes</h2><table><tr><th>Purpose</th><th>What it means</th><th>Legal basis</th><th>Choice</th></tr>"
        f"{purposes}</table>"
        "<h2>How long we keep data</h2><table><tr><th>Data</th><th>Held by</th><th>Kept</th><th>Why</th></tr>"
        f"{retention}</table>"
    )
    return html_page("Our privacy practices", body)
