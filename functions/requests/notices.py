"""What the mails of a data-subject request say: every sentence in them must be true of this service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from functions.inventory.declaration import ANONYMIZE, RETAIN, Inventory
from functions.inventory.holds import Hold
from functions.requests.config import RequestConfig
from functions.requests.lifecycle import RequestType
from functions.requests.request_record import DsrRequest

SUPPORT = "support@softwareengineeringconcepts.com"
COMPLAINT = (
    "You may lodge a complaint with a supervisory authority (in the EU, the data protection authority "
    "where you live or work) and seek a judicial remedy."
)


@dataclass(frozen=True)
class MailText:
    subject: str
    text: str
    category: str


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _what(request: DsrRequest) -> str:
    return "a copy of your personal data" if request.type == RequestType.ACCESS else "the erasure of your personal data"


def _how_it_runs(request: DsrRequest, config: RequestConfig) -> str:
    if request.type == RequestType.ACCESS:
        return (
            "Once the request is confirmed, we collect your data from every system that holds it into one "
            f"archive and email you a download link; the link works for {config.export_link_hours} hours and the "
            f"archive is deleted {config.export_retention_days} days after we email you the link."
        )
    review = (
        " A member of our privacy team reviews it before anything is deleted." if config.erasure_needs_approval else ""
    )
    return (
        "Once the request is confirmed, we delete your data in every system that holds it, or remove your "
        f"identity from records the law makes us keep, and email you a signed deletion certificate.{review}"
    )


def verification(request: DsrRequest, link: str, config: RequestConfig) -> MailText:
    """Also the confirmation of receipt (CCPA 11 CCR § 7021(a)): how the request is processed and when."""
    return MailText(
        "Confirm your privacy request",
        f"We received a request for {_what(request)} (reference {request.id}) on {_day(request.received_at)}.\n\n"
        f"To confirm that it was you, open this link within {config.verification_link_hours} hours:\n\n{link}\n\n"
        f"{_how_it_runs(request, config)} We will answer by {_day(request.due_at)} at the latest.\n\n"
        "If you did not ask for this, ignore this message; nothing will happen.",
        "dsr-verification",
    )


def acknowledgement(request: DsrRequest, config: RequestConfig) -> MailText:
    """The confirmation of receipt for a signed-in user's request (CCPA 11 CCR § 7021(a))."""
    return MailText(
        "We received your privacy request",
        f"We received your request for {_what(request)} (reference {request.id}) on {_day(request.received_at)}, "
        "from your signed-in account, so it needs no further confirmation.\n\n"
        f"{_how_it_runs(request, config).replace('Once the request is confirmed, we', 'We')} "
        f"We will answer by {_day(request.due_at)} at the latest.",
        "dsr-acknowledgement",
    )


def access_ready(request: DsrRequest, link: str, config: RequestConfig) -> MailText:
    return MailText(
        "Your personal data is ready",
        f"Your copy of your personal data is ready (request {request.id}).\n\n"
        f"Download it within {config.export_link_hours} hours:\n\n{link}\n\n"
        f"The link stops working after {config.export_link_hours} hours, and the archive itself is deleted "
        f"{config.export_retention_days} days after this email. README.txt in the archive explains each file: "
        "why we hold it, who holds it, how long it is kept, and your rights.",
        "dsr-access-done",
    )


HELD_WORDS = (
    "kept for now: it is needed for the establishment, exercise or defence of legal claims (GDPR Art. 17(3)(e)); "
    "it will be erased when that need ends"
)


def erasure_done(request: DsrRequest, inventory: Inventory, config: RequestConfig) -> MailText:
    held = {step.name for step in request.steps if step.held_by}
    kept = [f"- {name}: {HELD_WORDS}" for name in sorted(held)] + [
        f"- {location.id}: {location.erasure.legal_basis}"
        for location in inventory.locations
        if (location.erasure.strategy in (ANONYMIZE, RETAIN) or location.erasure.keep) and location.id not in held
    ]
    return MailText(
        "Your personal data has been erased",
        f"Your personal data has been erased (request {request.id}).\n\n"
        "What we kept, and why:\n" + "\n".join(kept) + "\n\n"
        f"The deletion certificate can be read at {config.public_api_url}/certificates/{request.id} "
        f"and checked at {config.public_api_url}/certificates/verify.",
        "dsr-erasure-done",
    )


def denied(request: DsrRequest) -> MailText:
    """GDPR Art. 12(4): the reasons for not acting, and the possibility to complain and seek a remedy."""
    reason = request.decision.reason if request.decision else ""
    return MailText(
        "Your privacy request",
        f"We cannot act on your request {request.id}.\n\nReason: {reason}\n\n{COMPLAINT}",
        "dsr-denied",
    )


def extended(request: DsrRequest) -> MailText:
    """GDPR Art. 12(3) / 11 CCR § 7021(b): the extension with its reasons."""
    reason = request.extension.reason if request.extension else ""
    return MailText(
        "Your privacy request will take longer",
        f"We need more time to answer your request {request.id}.\n\nReason: {reason}\n\n"
        f"We will answer by {_day(request.due_at)} at the latest.",
        "dsr-extended",
    )


def parent_notice(request: DsrRequest) -> MailText:
    return MailText(
        "An account for your child is being deleted",
        "An account on our Services appears to belong to a child under 13. Our Services are not for children "
        f"under 13, so the account and its personal data are being deleted (reference {request.id}). "
        f"Contact {SUPPORT} with any question.",
        "dsr-under-13-parent",
    )


def staff_digest(
    overdue: list[str], near: list[str], acknowledgements: list[str], unconfirmed: list[str], holds_ending: list[Hold]
) -> MailText:
    def section(title: str, ids: list[str]) -> str:
        return f"{title}:\n" + "\n".join(ids or ["(none)"])

    holds = [f"{hold.id} ends {hold.ends_at.date().isoformat() if hold.ends_at else '-'}" for hold in holds_ending]
    return MailText(
        f"Privacy requests: {len(overdue)} overdue, {len(near)} due soon, {len(acknowledgements)} to acknowledge",
        "\n\n".join(
            [
                section("Overdue", overdue),
                section("Due soon", near),
                section("Confirmation of receipt due soon or late (CCPA 11 CCR § 7021(a))", acknowledgements),
                section("Mails whose sending was interrupted (check the mail provider before resending)", unconfirmed),
                section(
                    "Legal holds ending soon (GDPR Art. 17(3)(e)): when one ends, what it kept is purged and erased "
                    "as if it had never been held; release it earlier, or place a new hold, as the case needs",
                    holds,
                ),
            ]
        ),
        "dsr-deadlines",
    )
