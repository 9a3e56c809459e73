"""The browser outbox: a list of mails and one page per mail.

Everything that came from a request is escaped with ``html.escape``; the HTML body of a mail is
shown only inside ``<iframe sandbox="" srcdoc=...>`` so its scripts, forms and links cannot act on
this page, and the page's CSP (inherited by srcdoc frames) stops remote loads such as tracking
pixels. The one form, a mail page's "what a recipient does", posts to this server only.
"""

from __future__ import annotations

import base64
import binascii
import json
from html import escape
from typing import Any
from urllib.parse import quote

from aiohttp import web

from devstack.mailserver.store import StoredMail
from devstack.mailserver.validation import iter_recipients

# Inline styles only; no scripts anywhere, and mail HTML may not fetch remote resources.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
th{background:#f4f4f4}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{font-weight:600}
dd{margin:0;word-break:break-all}
pre{background:#f8f8f8;padding:1rem;white-space:pre-wrap;word-break:break-word}
iframe{width:100%;height:32rem;border:1px solid #ccc}
.muted{color:#777}
.done{background:#eef7ee;padding:.5rem .8rem}
form label{margin-right:1rem}
"""

# What a recipient can do on the mail page, by the kind the action takes (see people.py).
RECIPIENT_ACTIONS = {
    "group": "Unsubscribe from this mail's group",
    "global": "Unsubscribe from all mail",
    "spamreport": "Report as spam",
}
DONE = {
    "group_unsubscribe": "Recorded the group unsubscribe",
    "unsubscribe": "Recorded the unsubscribe from all mail",
    "spamreport": "Recorded the spam report",
}


def html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", headers=PAGE_HEADERS)


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _mail_href(mail_id: str) -> str:
    return "/mails/" + quote(mail_id, safe="")


def _address(value: object) -> str:
    if not isinstance(value, dict):
        return ""
    email, name = value.get("email"), value.get("name")
    return f"{name} <{email}>" if isinstance(name, str) and name else str(email or "")


def _addresses(values: object) -> str:
    if not isinstance(values, list):
        return ""
    return ", ".join(_address(v) for v in values)


def render_index(mails: list[StoredMail]) -> str:
    rows = []
    for mail in reversed(mails):
        subject = mail.subject()
        subject_html = (
            _e(subject)
            if subject is not None
            else f'<span class="muted">(template {_e(mail.request.get("template_id") or "none")})</span>'
        )
        recipients = mail.recipients("to")
        rows.append(
            "<tr>"
            f"<td>{_e(mail.received_at)}</td>"
            f"<td>{_e(mail.sender())}</td>"
            f"<td>{_e(', '.join(recipients))}</td>"
            f'<td><a href="{_e(_mail_href(mail.id))}">{subject_html}</a></td>'
            "</tr>"
        )
    table = (
        "<table><thead><tr><th>Received (UTC)</th><th>From</th><th>To</th><th>Subject</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="muted">No mails yet.</p>'
    )
    count = f"{len(mails)} mail" + ("" if len(mails) == 1 else "s")
    return _page("Outbox", f"<h1>Outbox</h1><p>{count}, newest first.</p>{table}")


def _definition_list(items: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items if v) + "</dl>"


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _attachment_size(content: object) -> str:
    if not isinstance(content, str):
        return "?"
    try:
        return f"{len(base64.b64decode(content, validate=True))} bytes"
    except (binascii.Error, ValueError):
        return "?"


def _recipient_form(mail: StoredMail) -> str:
    recipients = "".join(f"<option>{_e(address)}</option>" for _, address in iter_recipients(mail.request))
    group_id = mail.group_id()
    actions = "".join(
        f'<option value="{kind}">{_e(label)}{f" ({group_id})" if kind == "group" else ""}</option>'
        for kind, label in RECIPIENT_ACTIONS.items()
        if kind != "group" or group_id is not None
    )
    return (
        "<h2>What a recipient does</h2>"
        f'<form method="post" action="{_e(_mail_href(mail.id))}/people">'
        f'<label>Recipient <select name="email">{recipients}</select></label>'
        f'<label>Action <select name="kind">{actions}</select></label>'
        '<button type="submit">Do it</button></form>'
        '<p class="muted">As SendGrid does: the suppression is recorded and the event posted to the Event Webhook '
        "(see <code>/_events</code>).</p>"
    )


def render_mail(mail: StoredMail, done: str | None = None) -> str:
    request = mail.request
    reply_to = _address(request.get("reply_to")) or _addresses(request.get("reply_to_list"))
    headers = [
        ("Message-Id", mail.id),
        ("Received", mail.received_at),
        ("From", _address(request.get("from"))),
        ("Reply-To", reply_to),
        ("Subject", mail.subject() or ""),
        ("Template", str(request.get("template_id") or "")),
        ("Categories", ", ".join(str(c) for c in request.get("categories") or [])),
        ("Custom args", _json_text(request["custom_args"]) if request.get("custom_args") else ""),
        ("Headers", _json_text(request["headers"]) if request.get("headers") else ""),
        ("Unsubscribe group", "" if mail.group_id() is None else str(mail.group_id())),
        ("Dropped", ", ".join(f"{address} ({reason})" for address, reason in mail.drops.items())),
    ]
    parts = [f'<p><a href="/">&larr; Outbox</a></p><h1>{_e(mail.subject() or "(no subject)")}</h1>']
    if done in DONE:
        parts.append(f'<p class="done">{_e(DONE[done])}.</p>')
    parts.append(_definition_list(headers))

    for index, personalization in enumerate(request.get("personalizations") or []):
        if not isinstance(personalization, dict):
            continue
        items = [
            ("To", _addresses(personalization.get("to"))),
            ("Cc", _addresses(personalization.get("cc"))),
            ("Bcc", _addresses(personalization.get("bcc"))),
            ("From", _address(personalization.get("from"))),
            ("Subject", str(personalization.get("subject") or "")),
        ]
        for key in ("dynamic_template_data", "substitutions", "custom_args", "headers", "send_at"):
            if key in personalization:
                items.append((key, _json_text(personalization[key])))
        parts.append(f"<h2>Personalization {index + 1}</h2>{_definition_list(items)}")

    text = mail.content_of_type("text/plain")
    if text is not None:
        parts.append(f"<h2>text/plain</h2><pre>{_e(text)}</pre>")
    html_body = mail.content_of_type("text/html")
    if html_body is not None:
        # sandbox="" disables scripts, forms, popups and same-origin access inside the frame.
        parts.append(f'<h2>text/html</h2><iframe sandbox="" srcdoc="{_e(html_body)}" title="HTML part"></iframe>')
    others = [c for c in mail.content() if c["type"].lower() not in ("text/plain", "text/html")]
    for item in others:
        parts.append(f"<h2>{_e(item['type'])}</h2><pre>{_e(item['value'])}</pre>")

    attachments = [a for a in request.get("attachments") or [] if isinstance(a, dict)]
    if attachments:
        rows = "".join(
            f"<tr><td>{_e(a.get('filename'))}</td><td>{_e(a.get('type'))}</td>"
            f"<td>{_e(a.get('disposition') or 'attachment')}</td>"
            f"<td>{_e(_attachment_size(a.get('content')))}</td></tr>"
            for a in attachments
        )
        parts.append(
            "<h2>Attachments</h2><table><thead><tr><th>File</th><th>Type</th><th>Disposition</th>"
            f"<th>Size</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append(_recipient_form(mail))
    return _page(mail.subject() or "Mail", "".join(parts))


def render_not_found() -> str:
    return _page("Not found", '<p><a href="/">&larr; Outbox</a></p><h1>No such mail</h1>')


def render_refused(message: str) -> str:
    return _page("Not done", f'<p><a href="/">&larr; Outbox</a></p><h1>Not done</h1><p>{_e(message)}</p>')
