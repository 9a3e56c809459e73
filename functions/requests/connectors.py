"""What each kind of inventory location does for a request: find, export, plan and erase.

One function set per kind; the locations themselves come from the inventory declaration, so a new
container of an existing kind needs no code. Every erasure is safe to repeat: deleting what is gone
is a no-op, and third parties are asked before they are told.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from core.containers import CONSENT_EVENTS, DSR_REQUESTS
from core.ports import DocumentChanged, DocumentStore
from functions.consent.ledger import ChainVerification, ConsentEvent, EventKind
from functions.consent.service import ConsentLedger
from functions.requests.inventory import (
    ANONYMIZE,
    CONSENT_LEDGER,
    COSMOS,
    EXPORT_ARCHIVES,
    REQUEST_RECORDS,
    RETAIN,
    SENDGRID,
    STRIPE,
    Location,
)
from functions.requests.model import OPEN_STATUSES, DsrRequest
from functions.requests.ports import ArchiveStore, MarketingContacts, PaymentsGateway

MAX_DELETE_ROUNDS = 5


def _forget_address(store: DocumentStore, request_id: str, erasing_request_id: str) -> int:
    """Removes the address from another, closed request of the person (open ones still need it to
    answer), with the etag so that a concurrent change of that request is never overwritten."""
    if request_id == erasing_request_id:
        return 0
    for _ in range(5):
        found = store.read(DSR_REQUESTS, request_id, request_id)
        if found is None or not found.body.get("email") or found.body.get("status") in OPEN_STATUSES:
            return 0
        try:
            store.replace(DSR_REQUESTS, {**found.body, "email": None}, found.etag)
            return 1
        except DocumentChanged:
            continue
    raise DocumentChanged(DSR_REQUESTS)


def _delete_item(store: DocumentStore, container: str, item: dict[str, Any]) -> bool:
    return store.delete(container, item["id"], item["userId"])


def _anonymize_item(store: DocumentStore, container: str, fields: tuple[str, ...], item: dict[str, Any]) -> bool:
    store.upsert(container, {**item, **dict.fromkeys(fields), "anonymized": True})
    return True


@dataclass(frozen=True)
class Connectors:
    store: DocumentStore
    ledger: ConsentLedger
    payments: PaymentsGateway
    contacts: MarketingContacts
    archives: ArchiveStore


@dataclass
class Outcome:
    counts: dict[str, int] = field(default_factory=dict)
    confirmations: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PlanEntry:
    location: str
    category: str
    action: str  # delete | anonymize | retain | pseudonymize | nothing-found
    items: int
    reason: str


def _cosmos_items(
    c: Connectors, location: Location, request: DsrRequest, fields: str = "*"
) -> Iterator[dict[str, Any]]:
    if request.user_id is None or location.container is None:
        return iter(())
    return c.store.query(
        location.container,
        request.user_id,
        f"SELECT {fields} FROM c WHERE c.userId = @user",  # noqa: S608 - fields are constants of this module
        {"@user": request.user_id},
    )


KEYS_ONLY = "c.id, c.userId"


def _ledger_histories(
    c: Connectors, request: DsrRequest
) -> Iterator[tuple[str, list[ConsentEvent], ChainVerification]]:
    """The user's consent chain, then the visitor chains linked to it at sign-in, each read once."""
    if request.user_id is None:
        return
    user = f"user:{request.user_id}"
    events, verification = c.ledger.history(user)
    yield user, events, verification
    for event in events:
        if event.kind is EventKind.VISITOR_LINKED and event.linked_subject:
            yield event.linked_subject, *c.ledger.history(event.linked_subject)


def export_items(c: Connectors, location: Location, request: DsrRequest, email: str) -> Iterator[dict[str, Any]]:
    """The subject's items at one location, streamed (never all held at once)."""
    if location.kind == COSMOS:
        yield from _cosmos_items(c, location, request)
    elif location.kind == CONSENT_LEDGER:
        for subject, events, verification in _ledger_histories(c, request):
            for event in events:
                yield {k: v for k, v in event.to_document().items() if k != "proofSalt"}
            yield {"subjectId": subject, "chainVerified": verification.valid, "eventCount": len(events)}
    elif location.kind == STRIPE:
        for customer_id in request.stripe_customer_ids:
            yield c.payments.export_customer(customer_id)
    elif location.kind == SENDGRID:
        yield c.contacts.export_contact(email)


def count_items(c: Connectors, location: Location, request: DsrRequest) -> int:
    """How many items a Cosmos location holds for the subject (recorded before an erasure starts)."""
    return sum(1 for _ in _cosmos_items(c, location, request, KEYS_ONLY)) if location.kind == COSMOS else 0


def plan(c: Connectors, location: Location, request: DsrRequest) -> PlanEntry:
    strategy = location.erasure
    if location.kind == COSMOS:
        items = count_items(c, location, request)
    elif location.kind == CONSENT_LEDGER:
        items = sum(len(events) for _, events, _ in _ledger_histories(c, request))
    elif location.kind == STRIPE:
        items = len(request.stripe_customer_ids)
    elif location.kind == SENDGRID:
        items = 1  # looked up by email at run time; the plan does not call third parties
    elif location.kind == EXPORT_ARCHIVES:
        items = -1  # unknown until listed
    else:
        items = 1
    action = strategy.strategy
    if strategy.strategy == RETAIN and strategy.pseudonymize:
        action = "pseudonymize"
    reason = strategy.legal_basis or ("kept off the mailing lists: " + strategy.keep if strategy.keep else "erasure")
    if items == 0:
        action = "nothing-found"
    return PlanEntry(location.id, location.category, action, items, reason)


def _erase_cosmos(
    c: Connectors, location: Location, container: str, request: DsrRequest, found: int | None
) -> dict[str, int]:
    if location.erasure.strategy == ANONYMIZE:
        fields = location.erasure.fields
        anonymized = sum(_anonymize_item(c.store, container, fields, i) for i in _cosmos_items(c, location, request))
        return {"found": anonymized if found is None else found, "anonymized": anonymized}
    deleted = remaining = 0
    for _round in range(MAX_DELETE_ROUNDS):
        # Deleting while paging through a query may skip items a page boundary moved: query again
        # until nothing is left.
        keys = _cosmos_items(c, location, request, KEYS_ONLY)
        deleted += sum(_delete_item(c.store, container, item) for item in keys)
        remaining = count_items(c, location, request)
        if remaining == 0:
            break
    total = deleted if found is None else found
    return {"found": total, "deleted": total - remaining, "remaining": remaining}


def erase(
    c: Connectors, location: Location, request: DsrRequest, email: str | None, found: int | None = None
) -> Outcome:
    """Erase one location. ``found`` is the item count taken before the first attempt, so the counts
    stay right when an attempt died half way and this one only sees what was left."""
    outcome = Outcome()
    if location.kind == COSMOS and location.container is not None:
        outcome.counts = _erase_cosmos(c, location, location.container, request, found)
    elif location.kind == CONSENT_LEDGER:
        pseudonymized = kept = 0
        for _, events, _ in _ledger_histories(c, request):
            for event in events:
                kept += 1
                if event.proof_salt is not None or event.context.ip_truncated or event.context.user_agent:
                    c.store.upsert(CONSENT_EVENTS, event.pseudonymized().to_document())
                    pseudonymized += 1
        outcome.counts = {"eventsKept": kept, "pseudonymized": pseudonymized}
    elif location.kind == STRIPE:
        for customer_id in request.stripe_customer_ids:
            confirmation = c.payments.delete_customer(
                customer_id, idempotency_key=f"erasure-{request.id}-{customer_id}"
            )
            outcome.confirmations.append(confirmation.__dict__)
        outcome.counts = {"customersDeleted": len(request.stripe_customer_ids)}
    elif location.kind == SENDGRID and email is not None:
        deleted = c.contacts.delete_contact(email)
        if deleted is not None:
            outcome.confirmations.append(deleted.__dict__)
        outcome.confirmations.append(c.contacts.suppress(email).__dict__)
        outcome.counts = {"contactsDeleted": int(deleted is not None), "suppressed": 1}
    elif location.kind == EXPORT_ARCHIVES:
        deleted_archives = c.archives.delete_archives(request.subject_key)
        # Blob names start with the subject's keyed hash; the public certificate keeps only the file part.
        outcome.confirmations.extend(
            {**d.__dict__, "reference": d.reference.rsplit("/", 1)[-1]} for d in deleted_archives
        )
        outcome.counts = {"deleted": len(deleted_archives)}
    elif location.kind == REQUEST_RECORDS:
        cleared = 0
        for other in c.store.query_across_partitions(
            DSR_REQUESTS, "SELECT c.id FROM c WHERE c.subjectKey = @key", {"@key": request.subject_key}
        ):
            cleared += _forget_address(c.store, str(other["id"]), request.id)
        outcome.counts = {"emailsRemoved": cleared}
    return outcome
