"""The retention periods in force: the inventory's declared periods, with the ones app settings change.

``RETENTION_PERIODS`` gives a rule another length (``navigation-events=180d,language-data=180d``), in
the unit its declaration counts in; a rule that names its own setting (export archives:
``EXPORT_RETENTION_DAYS``) is set there instead. A rule the inventory does not declare, a length in
the wrong unit, or any length but the law's for a rule whose period a law sets (invoices), stops the
app at start with a message that names the rule. Everything downstream (the purge, the public table, the export's
README, the mails) reads the result, so they all say the same.
"""

from __future__ import annotations

import re

from core.settings import Settings, SettingsError
from functions.inventory.declaration import Inventory, RetentionRule
from functions.inventory.periods import Period

OVERRIDES = "RETENTION_PERIODS"
_ENTRY = re.compile(r"^(?P<rule>[a-z0-9][a-z0-9.-]{0,99})=(?P<amount>[1-9][0-9]{0,5})(?P<unit>[dy])$")
_SHOWN = re.compile(r"[^A-Za-z0-9.=_-]")


def _shown(text: str) -> str:
    """A part of the setting quoted in an error: short, and only harmless characters."""
    return _SHOWN.sub("?", text)[:64]


def effective_inventory(inventory: Inventory, settings: Settings) -> Inventory:
    """The inventory with every period the app settings change; SettingsError names what is wrong."""
    declared = {rule.id: rule for rule in inventory.rules}
    changed: dict[str, RetentionRule] = {}
    for rule in declared.values():
        if rule.setting is not None:
            changed[rule.id] = _changed(rule, rule.period.with_amount(_days(settings, rule.setting)), rule.setting)
    for entry in (item.strip() for item in settings.get(OVERRIDES).split(",")):
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if match is None:
            raise SettingsError(
                f"app setting {OVERRIDES}: {_shown(entry)!r} is not <rule>=<n>d or <rule>=<n>y (navigation-events=180d)"
            )
        rule_id, amount, unit = match["rule"], int(match["amount"]), "days" if match["unit"] == "d" else "years"
        named = declared.get(rule_id)
        if named is None:
            raise SettingsError(
                f"app setting {OVERRIDES} names {rule_id}, which is not a retention rule of declarations/inventory.json"
            )
        if rule_id in changed:
            where = f"app setting {named.setting}" if named.setting else f"a second entry of {OVERRIDES}"
            raise SettingsError(f"app setting {OVERRIDES}: the period of {rule_id} is already set by {where}")
        if unit != named.period.unit:
            raise SettingsError(
                f"app setting {OVERRIDES}: {rule_id} is counted in {named.period.unit}; "
                f"give it as {rule_id}=<n>{'y' if named.period.unit == 'years' else 'd'}"
            )
        changed[rule_id] = _changed(named, named.period.with_amount(amount), OVERRIDES)
    return inventory.with_rules(changed)


def _days(settings: Settings, name: str) -> int:
    days = settings.get_int(name)
    if days < 1:
        raise SettingsError(f"app setting {name} must be at least 1")
    return days


def _changed(rule: RetentionRule, period: Period, setting: str) -> RetentionRule:
    try:
        return rule.with_period(period)
    except ValueError as refused:
        raise SettingsError(f"app setting {setting}: {refused}") from None
