"""Items on both sides of every retention cutoff, in every location, and a held subject: seeded the same
way over the in-memory fakes (unit tests) and the real local stand-ins (integration and end-to-end).

Each rule gets an item just past its period ("expired": two days beyond the cutoff) and one just
inside it ("young": two days before); a held subject has expired items everywhere. The test then
runs the purge and checks every id below.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.containers import AUDIT, DSR_REQUESTS, LEGAL_HOLDS, PROFILES
from core.models import LogEntry, utc_text
from core.ports import DocumentStore
from core.pseudonyms import keyed_hash
from functions.consent.ledger import Decision, EventContext, EventKind, Source
from functions.consent.ledger_repository import ConsentLedger
from functions.inventory.ports import ArchiveStore
from functions.requests.lifecycle import RequestType, Status
from functions.requests.request_record import DsrRequest

MARKETING = "marketing-email"
MARGIN = timedelta(days=2)
BERLIN = ZoneInfo("Europe/Berlin")


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Seeded:
    """What was seeded, by rule: ids that must go and ids that must stay."""

    now: datetime
    gone: dict[str, list[str]] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)
    # A subject whose items are all past their periods: kept while a hold covers them, gone otherwise.
    held_user: str = ""
    held_email: str = ""
    held: dict[str, list[str]] = field(default_factory=dict)
    held_customer: str = ""
    customers_gone: list[str] = field(default_factory=list)  # Stripe customer ids
    customers_kept: list[str] = field(default_factory=list)
    contacts_gone: list[str] = field(default_factory=list)  # addresses at SendGrid
    contacts_kept: list[str] = field(default_factory=list)
    archives_gone: list[str] = field(default_factory=list)  # blob names
    archives_kept: list[str] = field(default_factory=list)

    def add(self, rule: str, expired: str | None, young: str | None) -> None:
        if expired is not None:
            self.gone.setdefault(rule, []).append(expired)
        if young is not None:
            self.kept.setdefault(rule, []).append(young)

    def expected(self, held: bool) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """(ids that must be gone, ids that must be there) by rule, with the held subject's on the side
        its hold puts them."""
        gone, kept = {k: list(v) for k, v in self.gone.items()}, {k: list(v) for k, v in self.kept.items()}
        for rule, ids in self.held.items():
            (kept if held else gone).setdefault(rule, []).extend(ids)
        return gone, kept


@dataclass
class Seeder:
    store: DocumentStore
    ledger: ConsentLedger
    archives: ArchiveStore
    pepper: str
    new_customer: Callable[[str], str]  # email → Stripe customer id
    new_contact: Callable[[str], None]  # email → a marketing contact at SendGrid
    cookie_max_age: timedelta  # COOKIE_CONSENT_MAX_AGE_DAYS: a visitor's granted decision expires after it
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def seed(self) -> Seeded:
        seeded = Seeded(self.now)
        self._product(seeded)
        self._accounts(seeded)
        self._consent(seeded)
        self._requests(seeded)
        self._records(seeded)
        self._held(seeded)
        return seeded

    # ---- product containers --------------------------------------------------------------------

    def _item(self, container: str, user: str, **fields: object) -> str:
        item_id = _id(container[:4])
        self.store.create(container, {"id": item_id, "userId": user, **fields})
        return item_id

    def _product(self, seeded: Seeded, user: str | None = None) -> None:
        user = user or _id("usr")
        now = self.now
        for container, rule_field, days in (
            ("navigation-events", "at", 395),
            ("language-data", "at", 365),
            ("devices", "lastSeenAt", 270),
        ):
            expired = self._item(container, user, **{rule_field: utc_text(now - timedelta(days=days) - MARGIN)})
            young = self._item(container, user, **{rule_field: utc_text(now - timedelta(days=days) + MARGIN)})
            seeded.add(container, expired, young)
        # A push token reported invalid two days ago is cleared; one reported an hour ago stays.
        seen = utc_text(now - timedelta(days=3))
        invalid = self._item(
            "devices", user, lastSeenAt=seen, pushToken="push-old", pushTokenInvalidAt=utc_text(now - MARGIN)
        )
        fresh = self._item(
            "devices",
            user,
            lastSeenAt=seen,
            pushToken="push-new",
            pushTokenInvalidAt=utc_text(now - timedelta(hours=1)),
        )
        seeded.add("devices.invalid-push-tokens", invalid, fresh)
        # Invoices: kept to the end of the eighth calendar year after issue (Berlin's calendar), so one
        # issued in year Y may go from 1 January Y+9. 23:30 UTC on 31 December is already the new year
        # in Berlin: such an invoice belongs to the later year and stays.
        last_year_gone = now.astimezone(BERLIN).year - 9
        expired_invoice = datetime(last_year_gone, 12, 31, 12, 0, tzinfo=BERLIN)
        new_year_in_berlin = datetime(last_year_gone, 12, 31, 23, 30, tzinfo=UTC)
        gone = self._item("orders", user, issuedAt=utc_text(expired_invoice), billingName="Old Buyer")
        kept = self._item("orders", user, issuedAt=utc_text(new_year_in_berlin), billingName="Young Buyer")
        seeded.add("orders", gone, kept)

    # ---- accounts, Stripe and SendGrid ------------------------------------------------------------

    def _profile(self, user: str, email: str, **fields: object) -> None:
        self.store.upsert(
            PROFILES,
            {"id": user, "userId": user, "email": email, "emailHash": keyed_hash(self.pepper, email), **fields},
        )

    def _accounts(self, seeded: Seeded) -> None:
        now = self.now
        for age, gone in ((timedelta(days=30) + MARGIN, True), (timedelta(days=30) - MARGIN, False)):
            user, email = _id("usr"), f"{_id('closed')}@example.com"
            customer = self.new_customer(email)
            self.new_contact(email)
            self._profile(user, email, stripeCustomerId=customer, closedAt=utc_text(now - age))
            seeded.add("profiles", user if gone else None, None if gone else user)
            (seeded.customers_gone if gone else seeded.customers_kept).append(customer)
            (seeded.contacts_gone if gone else seeded.contacts_kept).append(email)
        open_user, open_email = _id("usr"), f"{_id('open')}@example.com"
        seeded.customers_kept.append(self.new_customer(open_email))
        self._profile(open_user, open_email, stripeCustomerId=seeded.customers_kept[-1])
        seeded.add("profiles", None, open_user)

    # ---- consent ledger ---------------------------------------------------------------------------

    def _decide(self, subject: str, decisions: dict[str, bool], at: datetime) -> None:
        context = EventContext(Source.API, "2026-11", "sha256:seed", at, "EU", "198.51.100.0/24", "Seed/1.0")
        self.ledger.record(
            subject,
            EventKind.DECISION,
            {purpose: Decision(granted, Source.API) for purpose, granted in decisions.items()},
            context,
            uuid.uuid4().hex,
        )

    def _consent(self, seeded: Seeded) -> None:
        now, proof = self.now, timedelta(days=1096)
        # Users: every consent withdrawn just over, or just under, three years ago.
        for age, gone in ((proof + MARGIN, True), (proof - MARGIN, False)):
            subject = f"user:{_id('usr')}"
            self._decide(subject, {"analytics": True}, now - age - timedelta(days=10))
            self._decide(subject, {"analytics": False}, now - age)
            seeded.add("consent-ledger", subject if gone else None, None if gone else subject)
        granted = f"user:{_id('usr')}"  # a consent still in force, given long ago: kept
        self._decide(granted, {"analytics": True}, now - proof * 2)
        seeded.add("consent-ledger", None, granted)
        ended = f"user:{_id('usr')}"  # an account that ended over three years ago: gone, grants and all
        self._decide(ended, {"analytics": True}, now - proof * 2)
        self.ledger.note_account_end(ended, now - proof - MARGIN)
        seeded.add("consent-ledger", ended, None)
        # Visitors: a granted cookie decision expires after the cookie lifetime, then its proof is kept three years.
        lifetime = self.cookie_max_age
        for age, gone in ((proof + lifetime + MARGIN, True), (proof + lifetime - MARGIN, False)):
            visitor = f"visitor:{uuid.uuid4().hex}"
            self._decide(visitor, {"cookie.analytics": True}, now - age)
            seeded.add("consent-ledger.visitors", visitor if gone else None, None if gone else visitor)
        refused = f"visitor:{uuid.uuid4().hex}"  # nothing granted: its clock is the decision itself
        self._decide(refused, {"cookie.analytics": False}, now - proof - MARGIN)
        seeded.add("consent-ledger.visitors", refused, None)
        # Marketing contacts: withdrawn just over, just under a month ago, and still granted.
        for age, granted_now, gone in (
            (timedelta(days=30) + MARGIN, False, True),
            (timedelta(days=30) - MARGIN, False, False),
            (timedelta(days=400), True, False),
        ):
            user, email = _id("usr"), f"{_id('mkt')}@example.com"
            self._profile(user, email)
            self.new_contact(email)
            self._decide(f"user:{user}", {MARKETING: granted_now}, now - age)
            (seeded.contacts_gone if gone else seeded.contacts_kept).append(email)

    # ---- requests and archives --------------------------------------------------------------------

    def _request(
        self, status: Status, received: datetime, closed: datetime | None, email: str | None = None
    ) -> DsrRequest:
        request = DsrRequest(
            id=str(uuid.uuid4()),
            type=RequestType.ACCESS,
            status=status,
            jurisdiction="GDPR",
            subject_key=keyed_hash(self.pepper, email or f"{uuid.uuid4().hex}@example.com"),
            email=email,
            received_at=received,
            due_at=received + timedelta(days=30),
            max_due_at=received + timedelta(days=90),
            source="website",
            verification_nonce="seeded-nonce" if status == Status.AWAITING_VERIFICATION else None,
        )
        if closed is not None:
            request.log.append(LogEntry(at=closed, actor="worker", action="completed"))
        self.store.create(DSR_REQUESTS, request.to_document())
        return request

    def _requests(self, seeded: Seeded) -> None:
        now = self.now
        for age, gone in ((timedelta(days=7) + MARGIN, True), (timedelta(days=7) - MARGIN, False)):
            request = self._request(Status.COMPLETED, now - age - timedelta(days=1), now - age)
            blob = self._archive(request.subject_key, request.id)
            self.store.upsert(DSR_REQUESTS, {**request.to_document(), "archiveBlob": blob})
            (seeded.archives_gone if gone else seeded.archives_kept).append(blob)
            seeded.add("request-records", None, request.id)  # the request itself stays (three years)
        for age, gone in ((timedelta(days=14) + MARGIN, True), (timedelta(days=14) - MARGIN, False)):
            email = f"{_id('unconfirmed')}@example.com"
            request = self._request(Status.AWAITING_VERIFICATION, now - age, None, email=email)
            seeded.add("request-records.unverified", request.id if gone else None, None if gone else request.id)
        for age, gone in ((timedelta(days=1096) + MARGIN, True), (timedelta(days=1096) - MARGIN, False)):
            request = self._request(Status.COMPLETED, now - age - timedelta(days=3), now - age)
            seeded.add("request-records", request.id if gone else None, None if gone else request.id)

    def _archive(self, subject_key: str, request_id: str) -> str:
        writer = self.archives.open_archive(subject_key, request_id)
        writer.add_text("README.txt", "seeded archive")
        return writer.close()

    # ---- our own records ---------------------------------------------------------------------------

    def _records(self, seeded: Seeded) -> None:
        now = self.now
        for age, gone in ((timedelta(days=1096) + MARGIN, True), (timedelta(days=1096) - MARGIN, False)):
            at = now - age
            record = {"id": uuid.uuid4().hex, "month": at.strftime("%Y-%m"), "at": at.isoformat()}
            self.store.create(AUDIT, {**record, "actor": "dpo-1", "action": "request.read", "target": "dsr:x"})
            seeded.add("audit-trail", record["id"] if gone else None, None if gone else record["id"])
            hold = _id("hold")
            self.store.create(
                LEGAL_HOLDS,
                {
                    "id": hold,
                    "kind": "subject",
                    "userId": _id("usr"),
                    "reason": "Seeded",
                    "placedBy": "dpo-1",
                    "placedAt": utc_text(at - timedelta(days=30)),
                    "releasedAt": utc_text(at),
                    "endedAt": utc_text(at),
                    "followedUp": True,
                },
            )
            seeded.add("legal-holds", hold if gone else None, None if gone else hold)

    def _held(self, seeded: Seeded) -> None:
        """A subject with expired items everywhere, for the test to put on hold (or not)."""
        user, email = _id("usr"), f"{_id('held')}@example.com"
        seeded.held_user, seeded.held_email = user, email
        nav = self._item("navigation-events", user, at=utc_text(self.now - timedelta(days=800)))
        seeded.held_customer = self.new_customer(email)
        self.new_contact(email)
        self._profile(
            user, email, stripeCustomerId=seeded.held_customer, closedAt=utc_text(self.now - timedelta(days=90))
        )
        subject = f"user:{user}"
        self._decide(subject, {"analytics": False}, self.now - timedelta(days=2000))
        seeded.held = {"navigation-events": [nav], "profiles": [user], "consent-ledger": [subject]}
