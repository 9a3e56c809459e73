"""Profiles on the product's ``profiles`` container (point reads; one cross-partition lookup by keyed hash)."""

from __future__ import annotations

from core.containers import PROFILES
from core.ports import DocumentStore


class ProductProfiles:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def _field(self, user_id: str, name: str) -> str | None:
        found = self._store.read(PROFILES, user_id, user_id)
        value = found.body.get(name) if found else None
        return value if isinstance(value, str) and value else None

    def email_of(self, user_id: str) -> str | None:
        return self._field(user_id, "email")

    def parent_email_of(self, user_id: str) -> str | None:
        return self._field(user_id, "parentEmail")

    def stripe_customer_of(self, user_id: str) -> str | None:
        return self._field(user_id, "stripeCustomerId")

    def email_key_of(self, user_id: str) -> str | None:
        return self._field(user_id, "emailHash")

    def user_for_email_key(self, subject_key: str) -> str | None:
        found = self._store.query_across_partitions(
            PROFILES, "SELECT c.userId FROM c WHERE c.emailHash = @key", {"@key": subject_key}
        )
        return next((str(d["userId"]) for d in found), None)
