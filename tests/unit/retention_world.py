"""The app's own wiring over in-memory fakes of every port, for retention's unit tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bootstrap import Services
from core.containers import PROFILES, database_spec
from core.keyring import StaticKeyRing
from core.models import utc_text
from core.pseudonyms import keyed_hash
from core.settings import Settings
from functions.consent.ledger import Decision, EventContext, EventKind, Source
from tests.fakes import (
    FakeContacts,
    FakePayments,
    InMemoryArchives,
    InMemoryDocumentStore,
    InMemoryWorkQueue,
    MemoryRootKey,
    MovableClock,
    RecordingMailer,
)
from tests.retention_cases import MARKETING, Seeded, Seeder

PEPPER = "unit-test-pepper"
KEYS = "k1:unit-test-signing-key"
SETTINGS = {
    "SUBJECT_HASH_PEPPER": PEPPER,
    "SIGNING_KEYS": KEYS,
    "PUBLIC_API_URL": "https://privacy.example.test/api",
    "DSR_STAFF_EMAIL": "dpo@example.test",
}
NOW = datetime(2027, 6, 15, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Account:
    user: str
    email: str
    customer: str


@dataclass
class RetentionWorld:
    services: Services
    store: InMemoryDocumentStore
    payments: FakePayments
    contacts: FakeContacts
    archives: InMemoryArchives
    mailer: RecordingMailer
    queue: InMemoryWorkQueue
    clock: MovableClock
    contact_ids: dict[str, str] = field(default_factory=dict)  # every contact ever made, by address

    def rewired(self, **settings: str) -> RetentionWorld:
        """The same data and third parties, with the app built again on other settings."""
        again = RetentionWorld(**{**vars(self), "services": None})
        again.services = _services(again, settings)
        return again

    def seeder(self) -> Seeder:
        return Seeder(
            self.store,
            self.services.ledger,
            self.archives,
            PEPPER,
            new_customer=self.new_customer,
            new_contact=self.new_contact,
            cookie_max_age=self.services.cookie_max_age,
            now=self.clock.now(),
        )

    def seed(self) -> Seeded:
        return self.seeder().seed()

    def new_customer(self, email: str) -> str:
        customer_id = f"cus_{uuid.uuid4().hex[:14]}"
        self.payments.customers[customer_id] = email
        return customer_id

    def new_contact(self, email: str) -> None:
        self.contacts.contacts[email] = self.contact_ids[email] = f"contact-{uuid.uuid4().hex[:8]}"

    def close_accounts(self, count: int, closed_days_ago: int = 45) -> list[Account]:
        """Accounts closed long enough ago that their Stripe customer and marketing contact are due."""
        return [self.account(closed_days_ago=closed_days_ago) for _ in range(count)]

    def account(self, closed_days_ago: int | None = None, withdrew_days_ago: int | None = None) -> Account:
        """A profile with a Stripe customer and a marketing contact; closed, and having withdrawn
        marketing email, that many days ago if said."""
        now = self.clock.now()
        user, email = f"usr-{uuid.uuid4().hex[:12]}", f"person-{uuid.uuid4().hex[:10]}@example.com"
        account = Account(user, email, self.new_customer(email))
        self.new_contact(email)
        closed = {} if closed_days_ago is None else {"closedAt": utc_text(now - timedelta(days=closed_days_ago))}
        profile = {"id": user, "userId": user, "email": email, "emailHash": keyed_hash(PEPPER, email)}
        self.store.upsert(PROFILES, {**profile, "stripeCustomerId": account.customer, **closed})
        if withdrew_days_ago is not None:
            self.decide_marketing(account, granted=False, days_ago=withdrew_days_ago)
        return account

    def decide_marketing(self, account: Account, granted: bool, days_ago: float = 0) -> None:
        at = self.clock.now() - timedelta(days=days_ago)
        context = EventContext(Source.API, "2026-11", "sha256:x", at)
        decision = {MARKETING: Decision(granted, Source.API)}
        self.services.ledger.record(f"user:{account.user}", EventKind.DECISION, decision, context, uuid.uuid4().hex)

    def seconds(self) -> float:
        """The world's clock as the purge's time budget reads it: a slow fake third party advances both."""
        return (self.clock.now() - NOW).total_seconds()

    # ---- tests.retention_checks.Places: what the checks look at ----------------------------------

    @property
    def documents(self) -> InMemoryDocumentStore:
        return self.store

    def customer_exists(self, customer_id: str) -> bool:
        return customer_id in self.payments.customers

    def contact_exists(self, email: str) -> bool:
        return self.contacts.holds(email)

    def blob_exists(self, name: str) -> bool:
        return name in self.archives.archives


def retention_world(**settings: str) -> RetentionWorld:
    store = InMemoryDocumentStore({c.id: c.partition_key.lstrip("/") for c in database_spec().containers})
    clock = MovableClock(NOW)
    world = RetentionWorld(
        services=None,  # type: ignore[arg-type]
        store=store,
        payments=FakePayments(),
        contacts=FakeContacts(asynchronous=True),  # as SendGrid deletes
        archives=InMemoryArchives(),
        mailer=RecordingMailer(),
        queue=InMemoryWorkQueue(),
        clock=clock,
    )
    world.services = _services(world, settings)
    return world


def _services(world: RetentionWorld, settings: dict[str, str]) -> Services:
    return Services.with_edges(
        Settings({**SETTINGS, **settings}),
        world.clock,
        documents=world.store,
        work_queue=world.queue,
        mailer=world.mailer,
        payments=world.payments,
        contacts=world.contacts,
        archives=world.archives,
        signing_keys=StaticKeyRing(KEYS),
        root_key=MemoryRootKey(),
    )
