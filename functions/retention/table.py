"""The public retention table: every kind of item, where it lives, how long it is kept and why,
written from the inventory with the periods in force. The API serves it as JSON and as a page, and
the README shows it (a test keeps the README's copy equal to this)."""

from __future__ import annotations

from dataclasses import dataclass

from functions.inventory.declaration import Inventory, LegalMinimum
from functions.inventory.periods import Period

SOURCE_WORDS = {
    "verified": "the law's own text was read",
    "secondary": "read in a secondary source that quotes or explains the law, not in the law's own text",
}


@dataclass(frozen=True)
class TableRow:
    rule: str
    location: str
    category: str  # in words, from the policy
    holder: str
    items: str
    period: Period
    reason: str
    legal_minimum: LegalMinimum | None

    @property
    def kept(self) -> str:
        return self.period.words()

    @property
    def minimum_words(self) -> str | None:
        minimum = self.legal_minimum
        if minimum is None:
            return None
        return f"at least {minimum.period.words()}: {minimum.citation} ({SOURCE_WORDS[minimum.source]})"


def retention_table(inventory: Inventory) -> list[TableRow]:
    return [
        TableRow(
            rule=rule.id,
            location=location.id,
            category=inventory.categories[location.category],
            holder=f"{inventory.controller} (us)" if location.holder == "us" else location.holder,
            items=rule.items,
            period=rule.period,
            reason=rule.reason,
            legal_minimum=rule.legal_minimum,
        )
        for location in inventory.locations
        for rule in location.retention
    ]


def markdown_table(rows: list[TableRow]) -> str:
    """The table as the README shows it."""
    lines = ["| what | where | kept | why | legal minimum |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        cells = [row.items, f"`{row.location}`", row.kept, row.reason, row.minimum_words or "—"]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)
