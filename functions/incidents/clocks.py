"""Legal clocks of a breach, as data: who must be told by when, each rule with its citation.

Rules are verified against the texts in the team's law notes; a rule read only in a secondary source
says so in ``source``. Where a law sets no fixed period ("without undue delay", "most expedient
time possible") no clock is invented: the incident shows "no fixed deadline".

GDPR Art. 33(1)'s 72 hours run from ``aware_at``; counting them as Regulation 1182/71 Art. 3 does
(from the start of the next hour) could end up to 59 minutes later, so this clock is never longer
than the law, at most that much shorter.

How the clock starts: ``aware_at`` is when the company became aware (GDPR Art. 33(1): "after
having become aware of it"; US statutes: discovery, or determination that a breach occurred — the
incident's ``determined_at`` where staff record a later determination). A law-enforcement delay
moves a person-facing deadline to the end of the delay when that is later (the statutes below
allow delay "consistent with the legitimate needs of law enforcement").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Audience(StrEnum):
    AUTHORITY = "authority"  # a supervisory authority or an attorney general
    INDIVIDUALS = "individuals"


class Trigger(StrEnum):
    AWARENESS = "awareness"  # discovery, or becoming aware
    DETERMINATION = "determination"  # determination that a breach occurred
    RESIDENT_NOTICE = "resident-notice"  # counted from the notice to residents


@dataclass(frozen=True)
class Rule:
    jurisdiction: str  # "GDPR", "US-CO" ...
    audience: Audience
    citation: str
    source: str  # "verified" (the text was read) or "secondary: <what was read>"
    hours: int | None = None
    days: int | None = None  # calendar days; None with hours None = no fixed deadline
    trigger: Trigger = Trigger.AWARENESS
    min_residents: int | None = None  # the rule applies when at least this many residents are affected
    law_enforcement_delay: bool = True

    def applies(self, residents: int | None) -> bool:
        if self.min_residents is None:
            return True
        return residents is not None and residents >= self.min_residents


def _state(code: str, days: int, citation: str, source: str, trigger: Trigger = Trigger.AWARENESS) -> Rule:
    return Rule(f"US-{code}", Audience.INDIVIDUALS, citation, source, days=days, trigger=trigger)


def _ag(
    code: str,
    more_than: int | None,
    days: int | None,
    citation: str,
    source: str,
    trigger: Trigger = Trigger.AWARENESS,
    at_least: int | None = None,
) -> Rule:
    threshold = at_least if at_least is not None else (more_than + 1 if more_than is not None else None)
    return Rule(f"US-{code}", Audience.AUTHORITY, citation, source, days=days, trigger=trigger, min_residents=threshold)


SECONDARY = "secondary: law-firm and attorney-general summaries"
RULES: tuple[Rule, ...] = (
    Rule(
        "GDPR",
        Audience.AUTHORITY,
        "GDPR Art. 33(1): without undue delay and, where feasible, not later than 72 hours after having become aware",
        "verified",
        hours=72,
        law_enforcement_delay=False,
    ),
    Rule("GDPR", Audience.INDIVIDUALS, "GDPR Art. 34(1): without undue delay (high risk)", "verified"),
    _state("CA", 30, "Cal. Civ. Code § 1798.82 (SB 446, from 1 Jan 2026)", SECONDARY),
    _ag(
        "CA",
        500,
        15,
        "Cal. Civ. Code § 1798.82(f): sample to the AG within 15 days of notifying consumers",
        SECONDARY,
        trigger=Trigger.RESIDENT_NOTICE,
    ),
    _state("CO", 30, "C.R.S. § 6-1-716(2)", SECONDARY, Trigger.DETERMINATION),
    _ag("CO", None, 30, "C.R.S. § 6-1-716(2)(f)", SECONDARY, Trigger.DETERMINATION, at_least=500),
    _state("CT", 60, "Conn. Gen. Stat. § 36a-701b(b) (Public Act 21-59)", SECONDARY),
    _state("DE", 60, "6 Del. C. § 12B-102(c)", "verified", Trigger.DETERMINATION),
    _state("FL", 30, "Fla. Stat. § 501.171(4)(a)", SECONDARY, Trigger.DETERMINATION),
    _ag("FL", None, 30, "Fla. Stat. § 501.171(3)(a)", SECONDARY, Trigger.DETERMINATION, at_least=500),
    _state("ME", 30, "10 M.R.S. § 1348(1)", SECONDARY),
    _state("MD", 45, "Md. Code, Com. Law § 14-3504(b)(3)", "verified"),
    _state("NY", 30, "N.Y. Gen. Bus. Law § 899-aa(2) (as amended 2024)", SECONDARY),
    _state("TX", 60, "Tex. Bus. & Com. Code § 521.053(b)", SECONDARY, Trigger.DETERMINATION),
    _ag("TX", None, 30, "Tex. Bus. & Com. Code § 521.053(i)", SECONDARY, Trigger.DETERMINATION, at_least=250),
    _state("WA", 30, "RCW 19.255.010(8)", SECONDARY),
    _ag("WA", 500, 30, "RCW 19.255.010(7)", SECONDARY),
    _state("VT", 45, "9 V.S.A. § 2435(b)(1)", SECONDARY),
    _state("OH", 45, "Ohio Rev. Code § 1349.19(B)(2)", SECONDARY),
    _state("TN", 45, "Tenn. Code § 47-18-2107(b)", SECONDARY),
    _state("WI", 45, "Wis. Stat. § 134.98(3)(a)", SECONDARY),
    _state("NM", 45, "NMSA 1978, § 57-12C-6", SECONDARY),
    _ag("NM", 1000, 45, "NMSA 1978, § 57-12C-10", "verified"),
    _state("RI", 45, "R.I. Gen. Laws § 11-49.3-4(a)(2)(ii)", "verified"),
    _state("AL", 45, "Ala. Code § 8-38-5(b)", "verified", Trigger.DETERMINATION),
    _ag("AL", 1000, 45, "Ala. Code § 8-38-6", SECONDARY, Trigger.DETERMINATION),
    _state("OR", 45, "ORS 646A.604(3)(a)", "verified"),
    _ag("OR", 250, 45, "ORS 646A.604(1)(b), (3)(a)", "verified"),
    _state("AZ", 45, "A.R.S. § 18-552(B)", SECONDARY, Trigger.DETERMINATION),
    _state("IN", 45, "Ind. Code § 24-4.9-3-3(a)", "verified"),
    _state("LA", 60, "La. R.S. 51:3074(E)", SECONDARY),
    _ag(
        "LA",
        None,
        10,
        "La. Admin. Code tit. 16, pt. III, § 701(B): received within 10 days of the notice",
        "verified",
        Trigger.RESIDENT_NOTICE,
        at_least=1,
    ),
    _state("SD", 60, "SDCL § 22-40-20", "verified"),
)
NO_FIXED_DEADLINE = "no fixed deadline"
# States whose statute gives individuals no fixed period ("without unreasonable delay", "most
# expedient time possible"): the incident shows no fixed deadline for them (secondary: a compliance
# register's quotes of each statute, cross-checked with law-firm charts).
WITHOUT_FIXED_PERIOD: dict[str, str] = {
    "US-AK": "AS 45.48.010",
    "US-AR": "Ark. Code § 4-110-105",
    "US-DC": "D.C. Code § 28-3852",
    "US-GA": "O.C.G.A. § 10-1-912",
    "US-HI": "HRS § 487N-2",
    "US-ID": "Idaho Code § 28-51-105",
    "US-IL": "815 ILCS 530/10",
    "US-IA": "Iowa Code § 715C.2",
    "US-KS": "K.S.A. 50-7a02",
    "US-KY": "KRS 365.732",
    "US-MA": "M.G.L. c. 93H § 3",
    "US-MI": "MCL 445.72",
    "US-MN": "Minn. Stat. § 325E.61",
    "US-MS": "Miss. Code § 75-24-29",
    "US-MO": "Mo. Rev. Stat. § 407.1500",
    "US-MT": "Mont. Code § 30-14-1704",
    "US-NE": "Neb. Rev. Stat. § 87-803",
    "US-NV": "NRS 603A.220",
    "US-NH": "RSA 359-C:20",
    "US-NJ": "N.J.S.A. 56:8-163",
    "US-NC": "N.C.G.S. § 75-65",
    "US-ND": "N.D.C.C. § 51-30-02",
    "US-OK": "24 O.S. § 163",
    "US-PA": "73 P.S. § 2303",
    "US-SC": "S.C. Code § 39-1-90",
    "US-UT": "Utah Code § 13-44-202",
    "US-VA": "Va. Code § 18.2-186.6",
    "US-WV": "W. Va. Code § 46A-2A-102",
    "US-WY": "Wyo. Stat. § 40-12-502",
}


@dataclass(frozen=True)
class Clock:
    rule: Rule
    due_at: datetime | None  # None: no fixed deadline (or not yet startable: counted from resident notice)
    note: str = ""


def clocks(
    jurisdictions: list[str],
    aware_at: datetime,
    determined_at: datetime | None = None,
    residents: Mapping[str, int] | None = None,
    first_notice_at: datetime | None = None,
    delay_until: datetime | None = None,
) -> list[Clock]:
    """Every clock that runs for the incident's jurisdictions, soonest first (no fixed deadline last)."""
    found = []
    for rule in RULES:
        if rule.jurisdiction not in jurisdictions or not rule.applies((residents or {}).get(rule.jurisdiction)):
            continue
        start = {
            Trigger.AWARENESS: aware_at,
            Trigger.DETERMINATION: determined_at or aware_at,
            Trigger.RESIDENT_NOTICE: first_notice_at,
        }[rule.trigger]
        if rule.hours is None and rule.days is None:
            found.append(Clock(rule, None, NO_FIXED_DEADLINE))
            continue
        if start is None:
            found.append(Clock(rule, None, "starts when people are notified"))
            continue
        due = start + timedelta(hours=rule.hours or 0, days=rule.days or 0)
        note = ""
        if rule.law_enforcement_delay and delay_until is not None and delay_until > due:
            due, note = delay_until, "moved to the end of the law-enforcement delay"
        found.append(Clock(rule, due, note))
    for jurisdiction in jurisdictions:
        if jurisdiction in WITHOUT_FIXED_PERIOD:
            citation = f"{WITHOUT_FIXED_PERIOD[jurisdiction]}: without unreasonable delay"
            rule = Rule(jurisdiction, Audience.INDIVIDUALS, citation, "secondary: statute quotes in a register")
            found.append(Clock(rule, None, NO_FIXED_DEADLINE))
    return sorted(found, key=lambda c: (c.due_at is None, c.due_at or aware_at))


def known_jurisdictions() -> list[str]:
    return sorted({rule.jurisdiction for rule in RULES} | set(WITHOUT_FIXED_PERIOD))
