"""The data inventory (``declarations/inventory.json``) as typed, checked values.

It is read once per process; a mistake in it (an unknown category, a retained location without a
legal basis, a duplicate id, a retention period other than the one the law it names sets) stops the
app at start with the location's name.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from core.containers import database_spec
from functions.inventory.periods import Clock, Period

DECLARATION = Path(__file__).resolve().parent.parent.parent / "declarations" / "inventory.json"

DELETE, ANONYMIZE, RETAIN = "delete", "anonymize", "retain"
NOT_FOUND = "none"  # find: a record of our own work that no data-subject request looks in


class _Declared(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, extra="forbid", frozen=True, defer_build=True
    )


class Erasure(_Declared):
    strategy: Literal["delete", "anonymize", "retain"]
    fields: tuple[str, ...] = ()
    legal_basis: str | None = None
    pseudonymize: bool = False
    keep: str | None = None  # what stays at the third party after a delete (e.g. a global suppression)


class _Counted(_Declared):
    """A length of time: days from the clock's moment, or years from the end of its calendar year."""

    days: int | None = Field(default=None, ge=1)
    years: int | None = Field(default=None, ge=1)
    clock: Clock = Field(alias="from")
    year_end: bool = False
    time_zone: str = "UTC"

    @property
    def period(self) -> Period:
        if (self.days is None) == (self.years is None):
            raise ValueError("give days or years")
        if self.years is not None:
            return Period(self.years, "years", self.clock, self.year_end, self.time_zone)
        return Period(self.days or 0, "days", self.clock, self.year_end, self.time_zone)

    @model_validator(mode="after")
    def _one_length(self) -> _Counted:
        self.period  # noqa: B018 - raises on a period that cannot be counted
        return self


class LegalMinimum(_Counted):
    """The period a law obliges us to keep the items for, with the law named: ``source`` says whether its
    own text was read (verified) or only a secondary source that quotes or explains it (secondary).

    Where such an obligation is the basis of keeping the items (GDPR Art. 6(1)(c)), the rule keeps them
    exactly that long: never shorter, which would break the law, and never longer, because once the
    obligation ends nothing else justifies them (storage limitation, GDPR Art. 5(1)(e)). An item that
    must outlive the period (an invoice in an open tax audit) is put on legal hold instead."""

    citation: str
    source: Literal["verified", "secondary"]


class RetentionRule(_Counted):
    """One kind of item of a location and how long it is kept (rules run in declaration order)."""

    id: str
    items: str  # what the rule is about, in plain words: "A navigation event"
    reason: str
    action: Literal["delete", "clear", "forget"]
    field: str | None = None  # the item's field holding the clock's moment (for Cosmos items and accounts)
    fields: tuple[str, ...] = ()  # cleared by action "clear"
    after: tuple[str, ...] = ()  # rules that must be done with an item (an account) first
    consent_purpose: str | None = None  # the purpose whose withdrawal starts the clock
    setting: str | None = None  # the app setting that sets the period in days, instead of RETENTION_PERIODS
    ends_account: bool = False  # purging the item ends the account: its consent proof's clock starts
    legal_minimum: LegalMinimum | None = None

    @model_validator(mode="after")
    def _lawful(self) -> RetentionRule:
        if self.action == "clear" and not self.fields:
            raise ValueError(f"retention rule {self.id}: clear needs the fields it clears")
        self._as_the_law_sets(self.period)
        return self

    def _as_the_law_sets(self, period: Period) -> None:
        """Refuses, naming the rule, a period other than the one the law it names sets (LegalMinimum)."""
        law = self.legal_minimum
        if law is None:
            return
        if not period.at_least(law.period):
            raise ValueError(
                f"retention rule {self.id}: {period.words()} is shorter than the legal minimum of "
                f"{law.period.words()} ({law.citation})"
            )
        if period != law.period:
            raise ValueError(
                f"retention rule {self.id}: {period.words()} is longer than the law requires "
                f"({law.period.words()}: {law.citation}); a period set by law is kept exactly, and an item "
                "needed longer is put on legal hold"
            )

    def with_period(self, period: Period) -> RetentionRule:
        """The rule with another length (an app setting); a rule whose period a law sets takes no other."""
        self._as_the_law_sets(period)
        amount = {"days": period.amount} if period.unit == "days" else {"years": period.amount}
        return self.model_copy(update=amount)


class Location(_Declared):
    id: str
    kind: str
    category: str
    holder: str  # "us", or the processor that holds it on our behalf
    purposes: tuple[str, ...] = Field(min_length=1)
    find: str
    export: str
    retention: tuple[RetentionRule, ...] = Field(min_length=1)
    erasure: Erasure
    container: str | None = None
    export_note: str | None = None  # read by people in their export's README
    time_field: str | None = None  # the item's ISO 8601 time, for finding who a breach window affects

    @property
    def exported(self) -> bool:
        return self.export != "none"

    @property
    def findable(self) -> bool:
        """Whether data-subject requests look here (records of our own work are not looked in)."""
        return self.find != NOT_FOUND

    @model_validator(mode="after")
    def _justified(self) -> Location:
        if self.erasure.strategy in {ANONYMIZE, RETAIN} and not self.erasure.legal_basis:
            raise ValueError(f"inventory location {self.id}: {self.erasure.strategy} needs a legal basis")
        for rule in self.retention:
            if rule.id != self.id and not rule.id.startswith(f"{self.id}."):
                raise ValueError(
                    f"inventory location {self.id}: retention rule {rule.id} must be named {self.id}[.part]"
                )
        return self


class Inventory(_Declared):
    comment: str = Field(default="", alias="$comment")
    controller: str
    categories: dict[str, str]
    locations: tuple[Location, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Inventory:
        ids = [location.id for location in self.locations]
        if len(ids) != len(set(ids)):
            raise ValueError("inventory location ids must be unique")
        for location in self.locations:
            if location.category not in self.categories:
                raise ValueError(f"inventory location {location.id}: unknown category {location.category}")
        for location in self.locations:
            if location.container is not None and database_spec().container(location.container).ttl_safe:
                raise ValueError(
                    f"inventory location {location.id}: its container lets Cosmos TTL delete items, which would "
                    "ignore legal holds and leave no report; only the retention purge may delete personal data"
                )
        rules = [rule.id for rule in self.rules]
        if len(rules) != len(set(rules)):
            raise ValueError("retention rule ids must be unique")
        for rule in self.rules:
            earlier = rules[: rules.index(rule.id)]
            for needed in rule.after:
                if needed not in earlier:
                    raise ValueError(
                        f"retention rule {rule.id}: it runs after {needed}, which must be declared before it"
                    )
        return self

    @property
    def rules(self) -> tuple[RetentionRule, ...]:
        """Every retention rule, in purge order (the locations' order, then each location's)."""
        return tuple(rule for location in self.locations for rule in location.retention)

    def rule(self, rule_id: str) -> RetentionRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def location_of(self, rule_id: str) -> Location:
        for location in self.locations:
            if any(rule.id == rule_id for rule in location.retention):
                return location
        raise KeyError(rule_id)

    def with_rules(self, rules: dict[str, RetentionRule]) -> Inventory:
        """The inventory with some rules replaced (periods from app settings)."""
        locations = tuple(
            location.model_copy(update={"retention": tuple(rules.get(r.id, r) for r in location.retention)})
            for location in self.locations
        )
        return self.model_copy(update={"locations": locations})

    def location(self, location_id: str) -> Location:
        for location in self.locations:
            if location.id == location_id:
                return location
        raise KeyError(location_id)


@cache
def inventory() -> Inventory:
    return Inventory.model_validate_json(DECLARATION.read_text())
