"""The record of a breach notice that went out, signed when its last batch is done.

It says which notice of which incident was sent, with the SHA-256 of the exact text and HTML every
affected person received, when it was approved and sent, and how many people it reached: evidence
of notification (GDPR Art. 33(5), 34) that an authority can check offline. It holds no address.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from functions.incidents.incident_record import Incident, Notice
from functions.incidents.notice_mail import render

NOTICE_RECORD_TYPE = "breach-notice-record"


def sent_notice_claims(
    incident: Incident,
    notice: Notice,
    category_names: dict[str, str],
    counts: tuple[int, int, int],  # batches, people sent to, batches refused
    sent_at: datetime,
) -> dict[str, Any]:
    mail = render(incident, notice, category_names)
    batches, recipients, rejected = counts
    return {
        "incidentId": incident.id,
        "noticeId": notice.id,
        "phase": notice.phase,
        "subject": notice.subject,
        "textSha256": hashlib.sha256(mail.text.encode()).hexdigest(),
        "htmlSha256": hashlib.sha256(mail.html.encode()).hexdigest(),
        "awareAt": incident.aware_at.isoformat(),
        "approvedAt": notice.approved_at.isoformat() if notice.approved_at else None,
        "dispatchStartedAt": notice.dispatch_started_at.isoformat() if notice.dispatch_started_at else None,
        "sentAt": sent_at.isoformat(),
        "batches": batches,
        "recipients": recipients,
        "rejectedBatches": rejected,
    }
