"""The composition root: builds every edge once, lazily, on first use.

Nothing here connects at import time, so indexing the function app stays fast and a missing
setting surfaces on the first call that needs it, with the setting's name.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property

from core.audit import AuditTrail
from core.auth import TokenPolicy, TokenValidator
from core.clock import SystemClock
from core.containers import database_spec
from core.http import CorsPolicy
from core.keyring import KeyRing, KeyVaultKeyRing, StaticKeyRing
from core.ports import Clock, DocumentStore
from core.settings import Settings, load_settings
from functions.consent.catalog import CatalogService
from functions.consent.service import ConsentLedger

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
