"""Closed accounts, as the product's profiles show them: where a third party's retention starts.

The product sets ``closedAt`` (ISO 8601, UTC) on a profile when the account is closed. Each rule that
must finish with a closed account before its profile goes (the payment customer, the marketing
contact) notes that it did, under ``purgedAt`` on the profile; the profile's own rule waits for them.

A held account is left out by its user id (a hold placed by address resolves the user when placed)
and, where the profile stores ``emailHash``, by that too. A profile without it must still be
selected: in Cosmos DB ``ARRAY_CONTAINS`` of an undefined field is undefined, and ``NOT`` of that
drops the row, so the clause is guarded, or such a profile would never be purged.
"""

from __future__ import annotations

from datetime import datetime

from core.containers import PROFILES
from core.models import utc_text
from core.ports import DocumentChanged, DocumentStore
from functions.inventory.declaration import RetentionRule
from functions.inventory.holds import HeldSet
from functions.inventory.purging import Selection

PURGED_AT = "purgedAt"
ACCOUNT_KEYS = "c.id, c.userId, c.email, c.stripeCustomerId"  # what third-party rules need of a profile
MAX_MARK_ATTEMPTS = 5


def done_by(rule_id: str) -> str:
    """The clause of profiles a rule has finished with (rule ids are declared text, never input)."""
    return f"IS_DEFINED(c.{PURGED_AT}['{rule_id}'])"


def closed_accounts(rule: RetentionRule, cutoff: datetime, holds: HeldSet, *also: str) -> Selection:
    """Profiles closed before ``cutoff`` that ``rule`` has not finished with (and ``also`` match),
    none of them held."""
    return Selection(
        PROFILES,
        f"c.{rule.field or 'closedAt'}",
        cutoff,
        clauses=(f"NOT {done_by(rule.id)}", *also),
        held=(
            "NOT ARRAY_CONTAINS(@heldUsers, c.userId)",
            "(NOT IS_DEFINED(c.emailHash) OR NOT ARRAY_CONTAINS(@heldKeys, c.emailHash))",
        ),
        held_parameters={"@heldUsers": sorted(holds.user_ids), "@heldKeys": sorted(holds.subject_keys)},
    )


def mark_done(store: DocumentStore, user_id: str, rule_id: str, at: datetime) -> bool:
    """Notes on the profile that ``rule_id`` finished with it; False when the profile is gone."""
    return mark_item_done(store, PROFILES, user_id, user_id, rule_id, at)


def mark_item_done(
    store: DocumentStore,
    container: str,
    item_id: str,
    partition: str,
    rule_id: str,
    at: datetime,
    renew: bool = False,
) -> bool:
    """Notes on an item, under ``purgedAt``, that ``rule_id`` finished with it at ``at`` (a rule declared
    to run after it then may take the item); ``renew`` moves an earlier note to ``at``. False when the
    item is gone. The item's model must keep the field, or the next save by its owner would drop it."""
    for _ in range(MAX_MARK_ATTEMPTS):
        found = store.read(container, item_id, partition)
        if found is None:
            return False
        done = dict(found.body.get(PURGED_AT) or {})
        if rule_id in done and not renew:
            return True
        try:
            store.replace(container, {**found.body, PURGED_AT: {**done, rule_id: utc_text(at)}}, found.etag)
            return True
        except DocumentChanged:
            continue
    raise DocumentChanged(container)
