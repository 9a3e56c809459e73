"""Checks of seeded retention cases, one set for every test level: the unit tests look at the in-memory
fakes, the integration and end-to-end tests at the real local stand-ins, through the same ``Places``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import stripe
from azure.storage.blob import BlobServiceClient

from bootstrap import Services
from core.containers import AUDIT, CONSENT_STATE, DSR_REQUESTS, LEGAL_HOLDS
from core.ports import DocumentStore
from devstack.services import STRIPE_LOCAL_KEY
from devstack.stack import LocalStack
from tests.retention_cases import Seeded

CONTAINERS = {
    "consent-ledger": CONSENT_STATE,
    "consent-ledger.visitors": CONSENT_STATE,
    "request-records": DSR_REQUESTS,
    "request-records.unverified": DSR_REQUESTS,
    "audit-trail": AUDIT,
    "legal-holds": LEGAL_HOLDS,
    "devices.invalid-push-tokens": "devices",
}


class Places(Protocol):
    """Where the seeded items live: the app's documents and the third parties, real or fake."""

    @property
    def documents(self) -> DocumentStore: ...

    def customer_exists(self, customer_id: str) -> bool: ...

    def contact_exists(self, email: str) -> bool: ...

    def blob_exists(self, name: str) -> bool: ...


def exists(documents: DocumentStore, rule: str, item_id: str) -> bool:
    """Whether the item a rule is about is still there (a cleared token, a closed request count as gone)."""
    container = CONTAINERS.get(rule, rule)
    clause = "c.subjectId = @id" if container == CONSENT_STATE else "c.id = @id"
    sql = f"SELECT * FROM c WHERE {clause}"  # noqa: S608 - one of two fixed clauses
    found = list(documents.query_across_partitions(container, sql, {"@id": item_id}))
    if not found:
        return False
    if rule == "devices.invalid-push-tokens":
        return "pushToken" in found[0]
    if rule == "request-records.unverified":
        return found[0]["status"] == "awaiting-verification" and found[0].get("email") is not None
    return True


def wrong(places: Places, seeded: Seeded, held: bool) -> list[str]:
    """Everything that is not as the periods (and the hold, if ``held``) say it should be."""
    gone, kept = seeded.expected(held)
    customers_gone, customers_kept = list(seeded.customers_gone), list(seeded.customers_kept)
    contacts_gone, contacts_kept = list(seeded.contacts_gone), list(seeded.contacts_kept)
    (customers_kept if held else customers_gone).append(seeded.held_customer)
    (contacts_kept if held else contacts_gone).append(seeded.held_email)
    documents = places.documents
    found = [f"{rule} kept {i}" for rule, ids in gone.items() for i in ids if exists(documents, rule, i)]
    found += [f"{rule} lost {i}" for rule, ids in kept.items() for i in ids if not exists(documents, rule, i)]
    found += [f"stripe kept {c}" for c in customers_gone if places.customer_exists(c)]
    found += [f"stripe lost {c}" for c in customers_kept if not places.customer_exists(c)]
    # Addresses stay out of failure messages: their position in the seed names them.
    found += [f"sendgrid kept contact {n}" for n, e in enumerate(contacts_gone) if places.contact_exists(e)]
    found += [f"sendgrid lost contact {n}" for n, e in enumerate(contacts_kept) if not places.contact_exists(e)]
    found += [f"blob kept {a}" for a in seeded.archives_gone if places.blob_exists(a)]
    found += [f"blob lost {a}" for a in seeded.archives_kept if not places.blob_exists(a)]
    return found


@dataclass(frozen=True)
class StackPlaces:
    """The local stand-ins: Cosmos DB, localstripe, the mail server's contacts, Azurite's blobs."""

    svc: Services
    stack: LocalStack

    @property
    def documents(self) -> DocumentStore:
        return self.svc.documents

    def customer_exists(self, customer_id: str) -> bool:
        client = stripe.StripeClient(STRIPE_LOCAL_KEY, base_addresses={"api": self.stack.stripe_url})
        try:
            return not client.v1.customers.retrieve(customer_id).to_dict().get("deleted")
        except stripe.InvalidRequestError:
            return False

    def contact_exists(self, email: str) -> bool:
        return self.svc.contacts.export_contact(email)["contact"] is not None

    def blob_exists(self, name: str) -> bool:
        blobs = BlobServiceClient.from_connection_string(self.stack.app_settings()["AzureWebJobsStorage"])
        return bool(blobs.get_blob_client("exports", name).exists())


def contact_deletes(stack: LocalStack, emails: list[str]) -> dict[str, int]:
    """How many deletion calls named each address's contact at the mail server."""
    counted = httpx.get(f"{stack.mail_url}/_marketing/deletions", timeout=10).raise_for_status().json()["byEmail"]
    return {email: counted.get(email.lower(), 0) for email in emails}


@contextmanager
def sendgrid_deletes_slowly(stack: LocalStack, seconds: float = 600) -> Iterator[None]:
    """While inside, a deleted contact is still found, as at SendGrid until its deletion job ends;
    on the way out every deletion under way ends."""

    def delay(value: float) -> None:
        url = f"{stack.mail_url}/_marketing/settings"
        httpx.put(url, json={"deletionDelaySeconds": value}, timeout=10).raise_for_status()

    delay(seconds)
    try:
        yield
    finally:
        delay(0)


def stripe_deletes(stack: LocalStack, customers: list[str]) -> dict[str, int]:
    """How often each customer was deleted at localstripe (its call log: one line per call)."""
    counts = dict.fromkeys(customers, 0)
    for call in Path(stack.log_dir / "stripe-calls.log").read_text().splitlines():
        method, path, *_ = call.split()
        if method == "DELETE" and (customer := path.removeprefix("/v1/customers/")) in counts:
            counts[customer] += 1
    return counts


def restart_withdrawal_window(svc: Services) -> None:
    """The seed backdates withdrawals of marketing consent; real ones are recorded when they happen, so
    the purge walks them in windows of time that never reach back. An earlier run on the same stack
    may have moved the window past the backdated ones: it starts again from the beginning."""
    runs = svc.retention_parts.runs
    state = runs.state()
    if state.etag is not None and state.cursors.pop("sendgrid-contact", None) is not None:
        runs.release(runs.save(state, svc.clock.now(), svc.retention_parts.config.lease))
