"""Retention periods as data: how cutoffs are counted, what the legal minimums refuse, how app settings
change periods, and that the public table (and the README's copy of it) says what is in force."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.containers import DSR_REQUESTS, ContainerSpec, database_spec
from core.settings import Settings, SettingsError
from functions.inventory.declaration import DECLARATION, Inventory, inventory
from functions.inventory.holds import NO_HOLDS
from functions.inventory.periods import Period, stored_cutoff
from functions.requests.lifecycle import RequestType, Status
from functions.requests.repository import RequestRepository
from functions.requests.request_record import DsrRequest
from functions.retention.policy import effective_inventory
from functions.retention.table import markdown_table, retention_table
from tests.fakes import InMemoryDocumentStore

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
# § 147(3),(4) AO, § 14b(1) UStG as amended by BEG IV from 1 January 2025 (known from secondary
# sources; the statute's own text was not read): invoices 8 years from the end of the calendar year of issue.
INVOICES = Period(8, "years", "created", year_end=True, time_zone="Europe/Berlin")


def declared() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DECLARATION.read_text())
    return document


def rule_of(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for loc in document["locations"] for r in loc["retention"] if r["id"] == rule_id)


# ---- counting ---------------------------------------------------------------------------------


def test_a_period_in_days_ends_that_many_days_after_its_clock() -> None:
    now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    assert Period(395, "days", "created").cutoff(now) == now - timedelta(days=395)


def test_invoices_go_from_the_first_of_january_after_eight_full_calendar_years_in_berlin() -> None:
    """§ 147(4) AO (secondary source): the period starts at the end of the calendar year the voucher
    arose in, so an invoice of 2025 is kept through 2033 and may go from 1 January 2034."""
    during_2033 = datetime(2033, 12, 31, 22, 0, tzinfo=UTC)  # 23:00 in Berlin: still 2033
    first_of_2034 = datetime(2033, 12, 31, 23, 0, tzinfo=UTC)  # midnight in Berlin
    issued_2025 = datetime(2025, 12, 31, 22, 59, tzinfo=UTC)  # 23:59 in Berlin, 31 December 2025
    issued_2026_in_berlin = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January 2026 in Berlin
    assert not issued_2025 < INVOICES.cutoff(during_2033)
    assert issued_2025 < INVOICES.cutoff(first_of_2034)
    assert not issued_2026_in_berlin < INVOICES.cutoff(first_of_2034)
    assert INVOICES.cutoff(first_of_2034) == datetime(2026, 1, 1, tzinfo=BERLIN)


def test_a_stored_time_is_selected_only_when_strictly_before_the_cutoff_whatever_its_form() -> None:
    cutoff = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    text = stored_cutoff(cutoff)
    for stored, before in (
        ("2025-12-31T23:59:58.9Z", True),
        ("2025-12-31T23:59:59+00:00", True),
        ("2026-01-01T00:00:00Z", False),
        ("2026-01-01T00:00:00+00:00", False),
        ("2026-01-01T00:00:00.5Z", False),
    ):
        assert (stored < text) is before, stored


def test_periods_compare_only_when_counted_the_same_way() -> None:
    assert INVOICES.with_amount(10).at_least(INVOICES)
    assert not INVOICES.with_amount(7).at_least(INVOICES)
    with pytest.raises(ValueError, match="not counted the way"):
        Period(3288, "days", "created").at_least(INVOICES)  # 3288 days from the invoice is not the law's count
    with pytest.raises(ValueError, match="calendar year"):
        Period(8, "years", "created")


# ---- the declaration -------------------------------------------------------------------------------


def test_every_location_declares_a_period_with_its_reason_and_clock() -> None:
    declared_inventory = inventory()
    for location in declared_inventory.locations:
        assert location.retention, location.id
        for rule in location.retention:
            assert rule.reason
            assert rule.items
            assert rule.period.words()
    rules = {rule.id for rule in declared_inventory.rules}
    for wanted in (
        "navigation-events",
        "language-data",
        "devices",
        "devices.invalid-push-tokens",
        "consent-ledger",
        "consent-ledger.visitors",
        "export-archives",
        "request-records",
        "request-records.unverified",
        "audit-trail",
        "stripe-customer",
        "sendgrid-contact",
        "legal-holds",
    ):
        assert wanted in rules


def test_the_invoice_rule_keeps_exactly_the_legal_minimum_and_names_its_source() -> None:
    orders = inventory().rule("orders")
    assert orders.legal_minimum is not None
    assert orders.period == orders.legal_minimum.period == INVOICES  # never shorter, and no longer
    assert orders.legal_minimum.source == "secondary"
    assert "§ 147" in orders.legal_minimum.citation
    assert "§ 14b" in orders.legal_minimum.citation


def test_a_declared_period_below_its_legal_minimum_stops_the_app_naming_the_rule() -> None:
    document = declared()
    rule_of(document, "orders")["years"] = 7
    with pytest.raises(ValueError, match=r"retention rule orders: 7 years .* shorter than the legal minimum"):
        Inventory.model_validate(document)


def test_a_declared_period_longer_than_the_law_sets_stops_the_app_naming_the_rule() -> None:
    """§ 147(3),(4) AO, § 14b(1) UStG (BEG IV, secondary source) are why invoices are kept: eight years
    from the end of their calendar year. Once that obligation ends nothing else justifies them (GDPR
    Art. 5(1)(e)), so a longer period is as wrong as a shorter one; an invoice needed longer is held."""
    document = declared()
    rule_of(document, "orders")["years"] = 10
    with pytest.raises(ValueError, match=r"retention rule orders: 10 years .* longer than the law requires"):
        Inventory.model_validate(document)


def test_rules_that_wait_for_others_come_after_them() -> None:
    document = declared()
    rule_of(document, "profiles")["after"] = ["orders"]
    with pytest.raises(ValueError, match="profiles: it runs after orders"):
        Inventory.model_validate(document)


def test_ttl_is_allowed_only_where_the_container_declaration_says_it_is_safe() -> None:
    with pytest.raises(ValueError, match="container navigation-events: defaultTtl is set"):
        ContainerSpec("navigation-events", "/userId", 3600, {})
    assert ContainerSpec("retention", "/kind", -1, {}, ttl_safe=True).default_ttl == -1


def test_no_location_of_personal_data_sits_in_a_container_ttl_may_empty() -> None:
    document = declared()
    document["locations"][3]["container"] = "retention"  # the purge's own bookkeeping: TTL on
    with pytest.raises(ValueError, match="only the retention purge may delete personal data"):
        Inventory.model_validate(document)


def test_an_export_archive_is_counted_from_the_mail_with_its_link_as_declared() -> None:
    """The declaration's clock (closed) is the one the purge counts from: an archive made ten days ago
    whose request completed, its link mailed, three days ago still has four of its seven days."""
    assert inventory().rule("export-archives").clock == "closed"
    store = InMemoryDocumentStore({c.id: c.partition_key.lstrip("/") for c in database_spec().containers})
    requests = RequestRepository(store)
    now = datetime(2027, 6, 15, tzinfo=UTC)
    made = now - timedelta(days=10)
    for closed, name in ((now - timedelta(days=3), "mailed-late"), (now - timedelta(days=8), "mailed-early")):
        request = DsrRequest(
            id=name,
            type=RequestType.ACCESS,
            status=Status.COMPLETED,
            jurisdiction="GDPR",
            subject_key="key",
            email=None,
            received_at=made,
            due_at=made + timedelta(days=30),
            max_due_at=made + timedelta(days=90),
            source="website",
            archive_blob=f"key/{name}.zip",
        )
        request.note(made, "worker", "exported")
        request.note(closed, "worker", "completed")
        store.create(DSR_REQUESTS, request.to_document())
    cutoff = inventory().rule("export-archives").period.cutoff(now)
    assert [due.request_id for due in requests.due("archive", cutoff, NO_HOLDS, 10)] == ["mailed-early"]


# ---- app settings ----------------------------------------------------------------------------------


def effective(**settings: str) -> Inventory:
    return effective_inventory(inventory(), Settings(settings))


def test_a_setting_changes_a_period_in_the_unit_its_rule_is_counted_in() -> None:
    changed = effective(RETENTION_PERIODS="navigation-events=180d, language-data=200d")
    assert changed.rule("navigation-events").period.amount == 180
    assert changed.rule("language-data").period.amount == 200
    assert changed.rule("devices") == inventory().rule("devices")


def test_a_rule_whose_period_a_law_sets_takes_only_the_laws_period_from_a_setting() -> None:
    """Invoices: § 147(3),(4) AO, § 14b(1) UStG as amended by BEG IV (secondary source), eight years
    from the end of the calendar year. Naming that same period changes nothing; any other is refused
    (shorter breaks the law, longer keeps what nothing justifies: GDPR Art. 5(1)(e))."""
    assert effective(RETENTION_PERIODS="orders=8y").rule("orders").period == INVOICES


def test_rules_with_their_own_setting_take_it() -> None:
    changed = effective(EXPORT_RETENTION_DAYS="3", DSR_UNVERIFIED_CLOSE_DAYS="21")
    assert changed.rule("export-archives").period.amount == 3
    assert changed.rule("request-records.unverified").period.amount == 21


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"RETENTION_PERIODS": "navigation-event=180d"}, "RETENTION_PERIODS names navigation-event, which is not"),
        ({"RETENTION_PERIODS": "orders=7y"}, "retention rule orders: 7 years .* shorter than the legal minimum"),
        ({"RETENTION_PERIODS": "orders=10y"}, "retention rule orders: 10 years .* longer than the law requires"),
        ({"RETENTION_PERIODS": "orders=4000d"}, "orders is counted in years; give it as orders=<n>y"),
        ({"RETENTION_PERIODS": "export-archives=3d"}, "already set by app setting EXPORT_RETENTION_DAYS"),
        ({"RETENTION_PERIODS": "devices=9d,devices=10d"}, "already set by a second entry"),
        ({"RETENTION_PERIODS": "devices=0d"}, "is not <rule>=<n>d"),
        ({"RETENTION_PERIODS": "devices=ten"}, "is not <rule>=<n>d"),
        ({"EXPORT_RETENTION_DAYS": "0"}, "EXPORT_RETENTION_DAYS must be at least 1"),
    ],
)
def test_a_setting_the_inventory_cannot_keep_stops_the_app_naming_the_rule(
    settings: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        effective(**settings)


def test_the_app_refuses_to_start_with_a_period_below_the_legal_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    monkeypatch.setenv("RETENTION_PERIODS", "orders=5y")
    sys.modules.pop("function_app", None)
    with pytest.raises(SettingsError, match="retention rule orders"):
        importlib.import_module("function_app")
    sys.modules.pop("function_app", None)


# ---- the public table --------------------------------------------------------------------------------


def test_the_table_lists_every_rule_with_the_period_in_force() -> None:
    rows = retention_table(effective(RETENTION_PERIODS="navigation-events=180d"))
    assert [row.rule for row in rows] == [rule.id for rule in inventory().rules]
    navigation = next(row for row in rows if row.rule == "navigation-events")
    assert navigation.kept == "180 days after it was recorded"
    orders = next(row for row in rows if row.rule == "orders")
    assert orders.minimum_words is not None
    assert "secondary source" in orders.minimum_words
    assert orders.holder == "Software Engineering Concepts, Inc. (us)"


def test_the_readme_shows_the_table_as_declared() -> None:
    readme = (ROOT / "README.md").read_text()
    shown = re.search(r"<!-- retention-table -->\n(.*?)\n<!-- /retention-table -->", readme, re.DOTALL)
    assert shown, "README.md has no retention table between its markers"
    assert shown.group(1) == markdown_table(retention_table(inventory()))
