"""The composition root: builds every edge once, lazily, on first use.

Nothing here connects at import time, so indexing the function app stays fast and a missing
setting surfaces on the first call that needs it, with the setting's name.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from typing import TYPE_CHECKING

from core.audit import AuditTrail
from core.auth import TokenPolicy, TokenValidator
from core.clock import SystemClock
from core.containers import PROFILES, database_spec
from core.http import CorsPolicy
from core.keyring import KeyRing, KeyVaultKeyRing, StaticKeyRing
from core.ports import Clock, DocumentStore, WorkQueue
from core.settings import Settings, load_settings
from functions.consent.catalog import CatalogService
from functions.consent.service import ConsentLedger

if TYPE_CHECKING:
    from functions.requests.ports import Mailer
    from functions.requests.service import RequestService


log = logging.getLogger("privacy.composition")

MAX_COOKIE_CONSENT_DAYS = 395  # 13 months


class Services:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()

    @cached_property
    def documents(self) -> DocumentStore:
        from adapters.cosmos import CosmosDocumentStore, connect

        client = connect(
            self.settings.get("COSMOS_ENDPOINT"),
            self.settings.get("COSMOS_KEY"),
            verify_tls=self.settings.get_bool("COSMOS_TLS_VERIFY"),
        )
        return CosmosDocumentStore(client, database_spec())

    @cached_property
    def catalog(self) -> CatalogService:
        return CatalogService(self.documents, float(self.settings.get_int("CATALOG_CACHE_SECONDS")))

    @cached_property
    def ledger(self) -> ConsentLedger:
        return ConsentLedger(self.documents)

    @cached_property
    def user_tokens(self) -> TokenValidator:
        return TokenValidator(
            TokenPolicy(
                issuer=self.settings.get("USER_JWT_ISSUER"),
                audience=self.settings.get("USER_JWT_AUDIENCE"),
                jwks_uri=self.settings.get("USER_JWKS_URI"),
            )
        )

    @cached_property
    def staff_tokens(self) -> TokenValidator:
        return TokenValidator(
            TokenPolicy(
                issuer=self.settings.get("STAFF_JWT_ISSUER"),
                audience=self.settings.get("STAFF_JWT_AUDIENCE"),
                jwks_uri=self.settings.get("STAFF_JWKS_URI"),
            )
        )

    @cached_property
    def banner_cors(self) -> CorsPolicy:
        return CorsPolicy(frozenset(self.settings.get_list("CORS_ALLOWED_ORIGINS")))

    @cached_property
    def cookie_max_age_days(self) -> int:
        return min(self.settings.get_int("COOKIE_CONSENT_MAX_AGE_DAYS"), MAX_COOKIE_CONSENT_DAYS)

    @cached_property
    def audit(self) -> AuditTrail:
        return AuditTrail(self.documents, self.clock)

    @cached_property
    def signing_keys(self) -> KeyRing:
        vault = self.settings.get("KEY_VAULT_URI")
        if vault:
            return KeyVaultKeyRing.connect(vault, self.settings.get("SIGNING_KEY_SECRET_NAME"))
        return StaticKeyRing(self.settings.get("SIGNING_KEYS"))

    @cached_property
    def pepper(self) -> str:
        return self.settings.get("SUBJECT_HASH_PEPPER")

    @cached_property
    def work_queue(self) -> WorkQueue:
        from adapters.storage import StorageWorkQueue, queue_service

        return StorageWorkQueue(queue_service(self.settings))

    @cached_property
    def mailer(self) -> Mailer:
        from adapters.sendgrid_email import SendGridMailer

        return SendGridMailer.from_settings(self.settings)

    @cached_property
    def requests(self) -> RequestService:
        from adapters.blob_archives import BlobArchiveStore
        from adapters.sendgrid_email import SendGridMarketingContacts
        from adapters.stripe_payments import StripePayments
        from functions.requests.connectors import Connectors
        from functions.requests.inventory import inventory
        from functions.requests.service import RequestConfig, RequestService

        archives = BlobArchiveStore.from_settings(self.settings)
        links = Connectors(
            store=self.documents,
            ledger=self.ledger,
            payments=StripePayments.from_settings(self.settings),
            contacts=SendGridMarketingContacts.from_settings(self.settings),
            archives=archives,
        )
        config = RequestConfig(
            public_api_url=self.settings.get("PUBLIC_API_URL").rstrip("/"),
            verification_link_hours=self.settings.get_int("DSR_VERIFICATION_LINK_HOURS"),
            export_link_hours=self.settings.get_int("EXPORT_LINK_HOURS"),
            export_retention_days=self.settings.get_int("EXPORT_RETENTION_DAYS"),
            unverified_close_days=self.settings.get_int("DSR_UNVERIFIED_CLOSE_DAYS"),
            max_open_per_subject=self.settings.get_int("DSR_MAX_OPEN_PER_EMAIL"),
            staff_email=self.settings.get("DSR_STAFF_EMAIL") or None,
            erasure_needs_approval=self.settings.get_bool("DSR_ERASURE_NEEDS_APPROVAL"),
        )
        return RequestService(
            self.documents, links, archives, self.mailer, self.work_queue, self.signing_keys, self.clock,
            self.pepper, inventory(), config,
        )  # fmt: skip

    def profile_field(self, user_id: str, name: str) -> str | None:
        """One field of the product's profile of a user (point read), or None."""
        found = self.documents.read(PROFILES, user_id, user_id)
        value = found.body.get(name) if found else None
        return value if isinstance(value, str) and value else None

    def profile_email(self, user_id: str) -> str | None:
        return self.profile_field(user_id, "email")


_lock = threading.Lock()
_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = Services(load_settings())
    return _services


def use_services(replacement: Services | None) -> None:
    """Swap the root (tests and benchmarks build theirs against the local stack)."""
    global _services
    with _lock:
        _services = replacement
