"""The breach notice as a person reads it: plain text and HTML, the parts in the policy's order."""

from __future__ import annotations

import html
from dataclasses import dataclass

from functions.incidents.contents import DELAY_PART, PARTS, Part
from functions.incidents.incident_record import Incident, Notice

CATEGORY = "breach-notice"


@dataclass(frozen=True)
class NoticeMail:
    subject: str
    text: str
    html: str


def _value(notice: Notice, part: Part) -> str:
    content = notice.content.model_dump(by_alias=True)
    return str(content.get(part.field) or "").strip()


def _sections(incident: Incident, notice: Notice, category_names: dict[str, str]) -> list[tuple[str, str]]:
    sections = []
    for part in PARTS:
        body = _value(notice, part)
        if part.field == "whatHappened" and incident.breach_time is not None:
            body = f"{body}\n\nWhen: {incident.breach_time.describe()}."
        if part.field == "informationInvolved" and incident.categories:
            names = "; ".join(category_names.get(c, c) for c in incident.categories)
            body = f"{body}\n\nThe kinds of personal information involved: {names}"
        if part.field == "whatWeAreDoing" and incident.law_enforcement_delay is not None:
            body = f"{body}\n\n{DELAY_PART.heading}: {_value(notice, DELAY_PART)}"
        sections.append((part.heading, body))
    return sections


def render(incident: Incident, notice: Notice, category_names: dict[str, str]) -> NoticeMail:
    sections = _sections(incident, notice, category_names)
    text = "\n\n".join(f"{heading}\n{body}" for heading, body in sections) + "\n"
    paragraphs = "".join(
        f"<h2>{html.escape(heading)}</h2>"
        + "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in body.split("\n\n") if paragraph)
        for heading, body in sections
    )
    page = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(notice.subject)}</title>"
        f"<body style='font-family:sans-serif;max-width:40em'><h1>{html.escape(notice.subject)}</h1>{paragraphs}"
        "</body></html>"
    )
    return NoticeMail(notice.subject, text, page)
