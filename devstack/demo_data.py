"""Realistic demo data for the product's containers, Stripe and SendGrid, so requests have something to find.

The local stack seeds a few demo people on first start; tests and benchmarks seed the subjects they
need with :func:`seed_person`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.ports import DocumentStore
from core.pseudonyms import keyed_hash

PAGES = ["/", "/pricing", "/docs", "/dashboard", "/dashboard/billing", "/blog/privacy", "/contact"]
BROWSERS = ["Firefox 133 on Linux", "Chrome 131 on Windows 11", "Safari 18 on macOS", "Edge 131 on Windows 10"]
UTTERANCES = [
    "book a meeting with the sales team tomorrow at ten",
    "what is the status of my last order",
    "change my billing address to the new office",
    "cancel the reminder for friday",
    "how many minutes are left on my plan",
]
COUNTRIES = ["DE", "FR", "US", "GB", "NL", "ES"]


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    user_id: str = field(default_factory=lambda: f"usr_{uuid.uuid4().hex[:16]}")
    country: str = "DE"
    parent_email: str | None = None
    under_13: bool = False


@dataclass
class Seeded:
    user_id: str
    stripe_customer_id: str | None
    counts: dict[str, int]


# Demo items are recent, inside every retention period, so no purge takes them from a test or a demo.
RECENT = timedelta(days=300)


def _navigation(person: DemoPerson, n: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    now = datetime.now(UTC)
    step = RECENT / max(n, 1)
    for i in range(n):
        yield {
            "id": f"nav-{uuid.uuid4().hex}",
            "userId": person.user_id,
            "at": (now - RECENT + step * i).isoformat(),
            "page": rng.choice(PAGES),
            "referrer": rng.choice(["https://www.google.com/", None, "https://news.example/"]),
            "durationSeconds": rng.randint(3, 600),
            "browser": rng.choice(BROWSERS),
            "ipTruncated": f"198.51.{rng.randint(0, 255)}.0/24",
            "city": rng.choice(["Berlin", "Paris", "Austin", "Leeds"]),
        }


def _language(person: DemoPerson, n: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "id": f"lang-{uuid.uuid4().hex}",
            "userId": person.user_id,
            "dialogueId": f"dlg-{i // 5}",
            "text": rng.choice(UTTERANCES),
            "at": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
        }


def _devices(person: DemoPerson, n: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for _ in range(n):
        yield {
            "id": f"dev-{uuid.uuid4().hex}",
            "userId": person.user_id,
            "model": rng.choice(["Pixel 9", "iPhone 16", "Galaxy S25"]),
            "os": rng.choice(["Android 16", "iOS 19"]),
            "pushToken": f"push-{uuid.uuid4().hex}",
            "cookieId": uuid.uuid4().hex,
            "lastSeenAt": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        }


def _orders(person: DemoPerson, n: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "id": f"ord-{uuid.uuid4().hex}",
            "userId": person.user_id,
            "number": f"INV-2026-{rng.randint(1000, 9999)}-{i}",
            "amountCents": rng.randint(900, 49900),
            "currency": "eur",
            "billingName": person.name,
            "billingEmail": person.email,
            "billingAddress": "Hauptstrasse 1, 10115 Berlin",
            "issuedAt": (datetime.now(UTC) - timedelta(days=60 + i)).isoformat(),
        }


def seed_person(
    store: DocumentStore,
    pepper: str,
    person: DemoPerson,
    *,
    navigation: int = 20,
    language: int = 10,
    devices: int = 2,
    orders: int = 3,
    stripe_client: Any | None = None,
    sendgrid_client: Any | None = None,
) -> Seeded:
    """Writes the person's product data; with clients given, also a Stripe customer and a marketing contact."""
    rng = random.Random(person.user_id)
    customer_id = None
    if stripe_client is not None:
        customer = stripe_client.v1.customers.create(params={"email": person.email, "name": person.name})
        payment_method = stripe_client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            }
        )
        stripe_client.v1.payment_methods.attach(payment_method.id, params={"customer": customer.id})
        customer_id = customer.id
    if sendgrid_client is not None:
        sendgrid_client.client.marketing.contacts.put(
            request_body={
                "contacts": [{"email": person.email, "first_name": person.name.split()[0], "country": person.country}]
            }
        )
    profile = {
        "id": person.user_id,
        "userId": person.user_id,
        "email": person.email,
        "emailHash": keyed_hash(pepper, person.email),
        "name": person.name,
        "country": person.country,
        "stripeCustomerId": customer_id,
        "under13": person.under_13,
        "parentEmail": person.parent_email,
    }
    store.upsert("profiles", profile)
    counts = {"profiles": 1}
    for container, items in (
        ("navigation-events", _navigation(person, navigation, rng)),
        ("language-data", _language(person, language, rng)),
        ("devices", _devices(person, devices, rng)),
        ("orders", _orders(person, orders, rng)),
    ):
        written = 0
        for item in items:
            store.create(container, item)
            written += 1
        counts[container] = written
    return Seeded(person.user_id, customer_id, counts)


DEMO_PEOPLE = (
    DemoPerson("ada.lovelace@example.com", "Ada Lovelace", user_id="usr_demo_ada", country="GB"),
    DemoPerson("grace.hopper@example.com", "Grace Hopper", user_id="usr_demo_grace", country="US"),
    DemoPerson(
        "little.timmy@example.com",
        "Timmy Small",
        user_id="usr_demo_timmy",
        country="DE",
        parent_email="parent.small@example.com",
        under_13=True,
    ),
)
