"""What a breach notice to people must say, as data: each part with the text that requires it.

The privacy policy ("Data Breach") promises eight items, (i) to (viii); GDPR Art. 34(2) requires
"in clear and plain language the nature of the personal data breach" and at least the information
of Art. 33(3)(b)-(d): the contact point, the likely consequences, and the measures taken or
proposed. A notice with any required part empty cannot be approved; the refusal lists the parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    field: str  # the notice field (camelCase in the API)
    heading: str  # as the person reads it
    required_by: str


PARTS: tuple[Part, ...] = (
    Part("whatHappened", "What happened", "Privacy policy, Data Breach (i); GDPR Art. 34(2) (nature of the breach)"),
    Part("informationInvolved", "What information was involved", "Privacy policy, Data Breach (ii)"),
    Part("whatWeAreDoing", "What we are doing", "Privacy policy, Data Breach (iii)"),
    Part("whatYouCanDo", "What you can do", "Privacy policy, Data Breach (iv)"),
    Part("moreInformation", "How to get more information", "Privacy policy, Data Breach (v)"),
    Part("protectionProvided", "What we have done to protect you", "Privacy policy, Data Breach (vi)"),
    Part("advice", "Steps you can take to protect yourself", "Privacy policy, Data Breach (vii)"),
    Part("cureAndTimeframe", "How we are fixing it, and by when", "Privacy policy, Data Breach (viii)"),
    Part("contactPoint", "Who to contact", "GDPR Art. 34(2) with Art. 33(3)(b)"),
    Part("likelyConsequences", "What this may mean for you", "GDPR Art. 34(2) with Art. 33(3)(c)"),
    Part("measures", "The measures taken or proposed", "GDPR Art. 34(2) with Art. 33(3)(d)"),
)
# Privacy policy (iii): "and if there was any delay in providing this notice due to law enforcement
# investigation" — required exactly when a law-enforcement delay applied.
DELAY_PART = Part("delayStatement", "Why this notice comes later", "Privacy policy, Data Breach (iii)")


def required_parts(law_enforcement_delay: bool) -> tuple[Part, ...]:
    return (*PARTS, DELAY_PART) if law_enforcement_delay else PARTS


def missing_parts(content: Mapping[str, str | None], law_enforcement_delay: bool, has_breach_time: bool) -> list[str]:
    """The parts a notice still lacks, by field name; empty when it may be approved. The date of the
    breach belongs to (i) and comes from the incident ("date of breach ..., or estimated date ..., or
    the date range")."""
    missing = [p.field for p in required_parts(law_enforcement_delay) if not (content.get(p.field) or "").strip()]
    if not has_breach_time:
        missing.insert(0, "breachTime")
    return missing
