"""README.txt of an access export: the GDPR Art. 15(1) information a person reads beside their data.

For each file: what it holds (category), why we hold it (purposes), who holds it (us, or the
processor on our behalf), how long it is kept and why, and how many items it has; then the person's
rights. Written from the inventory declaration, so it says what the system really does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from functions.inventory.declaration import Inventory, Location
from functions.requests.notices import COMPLAINT, SUPPORT
from functions.requests.request_record import DsrRequest

RECIPIENTS = (
    "Stripe, Inc. (payments), Twilio SendGrid (email), Microsoft Azure (hosting and backups), "
    "Google Analytics (website analytics, only with your consent)."
)


@dataclass(frozen=True)
class ExportedFile:
    location: Location
    items: int

    @property
    def name(self) -> str:
        return f"{self.location.id}.json"


def _holder(location: Location, controller: str) -> str:
    return f"{controller} (us)" if location.holder == "us" else location.holder


def _file_section(exported: ExportedFile, inventory: Inventory) -> str:
    location = exported.location
    lines = [
        f"{exported.name}: {exported.items} item{'s' if exported.items != 1 else ''}",
        f"  What it holds: {inventory.categories[location.category]}",
        "  Why we hold it: " + " ".join(location.purposes),
        f"  Who holds it: {_holder(location, inventory.controller)}",
        "  How long it is kept:",
        *(f"    {rule.items}: {rule.period.words()}. {rule.reason}" for rule in location.retention),
    ]
    if location.export_note:
        lines.append(f"  Note: {location.export_note}")
    return "\n".join(lines)


def export_readme(request: DsrRequest, files: list[ExportedFile], inventory: Inventory, made_at: datetime) -> str:
    sections = [
        f"Your personal data, as held by {inventory.controller} on {made_at.date().isoformat()}",
        f"Request {request.id}, received {request.received_at.isoformat()}.",
        "This archive is the copy of your personal data you asked for (GDPR Art. 15; CCPA Civ. Code "
        "§ 1798.110). Each .json file holds the items of one place where your data lives; request.json "
        "describes the request. Times are ISO 8601, in UTC unless they carry another offset.",
        "\n\n".join(_file_section(f, inventory) for f in files),
        "Who receives personal data: only the processors named above, who act on our behalf: " + RECIPIENTS,
        "Where it comes from: from you, and from your use of the Services, Dashboard and Website. "
        "No decision about you is made by automated means alone, and we do no profiling.",
        "Your rights: you may ask us to correct your data (GDPR Art. 16), to erase it (Art. 17), to restrict "
        "its use (Art. 18), to receive it in a portable form (Art. 20, this archive), and you may object to "
        "its use (Art. 21) or withdraw a consent at any time (Art. 7(3)); in California you may also ask us "
        "to correct or delete it and not to sell or share it, which we never do. Write to "
        f"{SUPPORT}, or use the privacy page. {COMPLAINT}",
    ]
    return "\n\n".join(sections) + "\n"
