"""Views of mailings: delivery counts, who was not reached, what the webhook took."""

from __future__ import annotations

from pydantic import Field

from core.models import Body, View


class MailingDeliveryView(View):
    mailing_id: str
    batches: int
    rejected_batches: int
    unconfirmed_batches: int
    sent: int
    counts: dict[str, int]


class UnreachedQuery(Body):
    after: str = Field(default="", max_length=64)
    limit: int = Field(default=100, ge=1, le=1000)


class UnreachedPersonView(View):
    id: str
    email: str
    status: str = Field(description="bounce, dropped, rejected, deferred, processed, or unknown (no event)")
    detail: str | None


class UnreachedView(View):
    people: list[UnreachedPersonView]
    next_after: str | None = Field(description="Pass it as after for the next page; null on the last.")


class EventsView(View):
    queued: int = Field(description="Events taken, applied in the background (a replayed one changes nothing).")
    ignored: int = Field(description="Events not about a mailing of ours, or of a kind not tracked.")
