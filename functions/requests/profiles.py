"""Profiles on the product's ``profiles`` container (point reads; cross-partition lookups by address).

What the product stores on a profile (README, "For product backends"): ``userId``, ``email`` and, where
it can, ``emailHash`` (the keyed hash of the address, core.pseudonyms.keyed_hash). An address leads to
its user by the hash when the profile carries one, else by the address itself, so a person is found
however the product stores them.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.containers import PROFILES
from core.ports import DocumentStore
from core.pseudonyms import keyed_hash


@dataclass(frozen=True)
class Addressed:
    user_id: str
    email: str
    email_hash: str  # keyed hash of the address, as the product stores it beside the address


class ProductProfiles:
    def __init__(self, store: DocumentStore, pepper: str) -> None:
        self._store = store
        self._pepper = pepper

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
        """The stored keyed hash, or the hash of the stored address where the product keeps none."""
        found = self._store.read(PROFILES, user_id, user_id)
        if found is None:
            return None
        stored, email = found.body.get("emailHash"), found.body.get("email")
        if isinstance(stored, str) and stored:
            return stored
        return keyed_hash(self._pepper, email) if isinstance(email, str) and email.strip() else None

    def user_for_email_key(self, subject_key: str) -> str | None:
        """By the keyed hash alone (all a mail event names): only profiles that store ``emailHash``."""
        found = self._store.query_across_partitions(
            PROFILES, "SELECT c.userId FROM c WHERE c.emailHash = @key", {"@key": subject_key}
        )
        return next((str(d["userId"]) for d in found), None)

    def user_for_email(self, email: str | None, subject_key: str) -> str | None:
        """The user an address belongs to: by its keyed hash, else (a profile without ``emailHash``) by
        the address, compared as the hash compares it (trimmed, any case). ``email`` None: the hash only."""
        by_key = self.user_for_email_key(subject_key)
        if by_key is not None or email is None or not email.strip():
            return by_key
        found = self._store.query_across_partitions(
            PROFILES,
            "SELECT c.userId FROM c WHERE LOWER(c.email) = @email",
            {"@email": email.strip().lower()},
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
