"""Profiles on the product's ``profiles`` container (point reads; one cross-partition lookup by keyed hash)."""

from __future__ import annotations

from dataclasses import dataclass

from core.containers import PROFILES
from core.ports import DocumentStore


@dataclass(frozen=True)
class Addressed:
    user_id: str
    email: str
    email_hash: str  # keyed hash of the address, as the product stores it beside the address


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

    def emails_of(self, user_ids: list[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        names = {f"@u{n}": user_id for n, user_id in enumerate(user_ids)}
        rows = self._store.query_across_partitions(
            PROFILES,
            f"SELECT c.userId, c.email FROM c WHERE c.userId IN ({', '.join(names)})",  # noqa: S608 - parameters
            names,
        )
        return {str(r["userId"]): str(r["email"]) for r in rows if isinstance(r.get("email"), str) and r["email"]}

    def addressed_after(self, after: str, limit: int) -> list[Addressed]:
        """The next ``limit`` users with an address, in the order of the address's keyed hash: the
        order the fan-out pages in, so a mailing to everyone never holds more than a batch."""
        rows = self._store.query_across_partitions(
            PROFILES,
            f"SELECT TOP {int(limit)} c.userId, c.email, c.emailHash FROM c "  # noqa: S608 - an int
            "WHERE IS_STRING(c.email) AND c.email != @blank AND IS_STRING(c.emailHash) AND c.emailHash > @after "
            "ORDER BY c.emailHash",
            {"@after": after, "@blank": ""},
        )
        return [Addressed(str(r["userId"]), str(r["email"]), str(r["emailHash"])) for r in rows]
