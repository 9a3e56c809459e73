"""The marketing contact at the email provider: deleted, while the address stays on the global
suppression list so that no later import or sign-up sync mails the person again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from functions.inventory.locations import Outcome, StoredLocation, location_kind
from functions.inventory.subject import Subject


@location_kind("sendgrid")
class SendGridLocation(StoredLocation):
    def export(self, subject: Subject) -> Iterator[dict[str, Any]]:
        """One row per record the provider holds under the address: the contact, the global
        suppression, each group unsubscribe."""
        if not subject.email:
            return
        held = self.systems.contacts.export_contact(subject.email)
        if held.get("contact"):
            yield {"record": "marketing-contact", **held["contact"]}
        if held.get("globalSuppression"):
            yield {"record": "global-suppression", **held["globalSuppression"]}
        for unsubscribe in held.get("unsubscribes") or []:
            yield {"record": "unsubscribe", **unsubscribe}

    def erase(self, subject: Subject, found: int | None) -> Outcome:
        if not subject.email:
            return Outcome(counts={"contactsDeleted": 0, "suppressed": 0})
        contacts = self.systems.contacts
        outcome = Outcome()
        deleted = contacts.delete_contact(subject.email)
        if deleted is not None:
            outcome.confirmations.append(deleted.to_document())
        outcome.confirmations.append(contacts.suppress(subject.email).to_document())
        outcome.counts = {"contactsDeleted": int(deleted is not None), "suppressed": 1}
        return outcome
