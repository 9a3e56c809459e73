"""The retention table as a page people read (no script, strict CSP, like every page we serve)."""

from __future__ import annotations

import html

import azure.functions as func

from core.pages import html_page
from functions.retention.table import TableRow


def table_page(controller: str, rows: list[TableRow]) -> func.HttpResponse:
    cells = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(text)}</td>"
            for text in (row.items, row.category, row.holder, row.kept, row.reason, row.minimum_words or "none")
        )
        + "</tr>"
        for row in rows
    )
    return html_page(
        "How long we keep personal data",
        f"<p>{html.escape(controller)} keeps each kind of personal data only as long as its purpose needs, "
        "then deletes it. A legal hold (GDPR Art. 17(3)(e)) can keep data longer while it is needed for "
        "legal claims. The same table as JSON: <a href=../retention>/api/retention</a>.</p>"
        "<table style='border-collapse:collapse' border=1 cellpadding=6><thead><tr>"
        "<th>What</th><th>Category</th><th>Who holds it</th><th>Kept</th><th>Why</th><th>Legal minimum</th>"
        f"</tr></thead><tbody>{cells}</tbody></table>",
    )
