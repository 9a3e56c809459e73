"""Printable pages for incident staff: the authority report as a page to file or print."""

from __future__ import annotations

import html
import json
from typing import Any

import azure.functions as func

from core.pages import html_page

LABELS = {
    "awareAt": "Became aware (GDPR Art. 33(1))",
    "deadline": "72 hours after awareness",
    "breachTime": "When the breach happened",
    "nature": "Nature of the breach, categories and approximate numbers (Art. 33(3)(a))",
    "contactPoint": "Contact point (Art. 33(3)(b))",
    "likelyConsequences": "Likely consequences (Art. 33(3)(c))",
    "measures": "Measures taken or proposed (Art. 33(3)(d))",
    "assessment": "Assessment (Art. 33(5))",
    "lawEnforcementDelay": "Law-enforcement delay",
    "filing": "Filing with the authority",
    "phases": "Notices in phases (Art. 33(4))",
}


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return html.escape(value)
    return f"<pre>{html.escape(json.dumps(value, indent=2, default=str))}</pre>"


def authority_report_page(report: dict[str, Any]) -> func.HttpResponse:
    rows = "".join(
        f"<tr><th scope=row style='text-align:left;vertical-align:top'>{html.escape(LABELS.get(key, key))}</th>"
        f"<td>{_cell(value)}</td></tr>"
        for key, value in report.items()
        if key not in ("incidentId", "title")
    )
    return html_page(f"Personal data breach: {report['title']}", f"<table>{rows}</table>")
