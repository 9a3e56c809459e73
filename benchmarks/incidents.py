"""``python -m benchmarks.incidents``: a breach notice to 100,000 people, against the local stack.

Prints the SendGrid requests made (one per 1,000 recipients), the time of each batch through the
app's fan-out worker beside the bare SendGrid SDK sending the same batch to the same server
(interleaved, batch by batch), and peak traced memory at 10,000 and 100,000 recipients (flat: the
worker holds one batch at a time).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
import uuid
import warnings
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sendgrid import SendGridAPIClient

from benchmarks.interleave import ratio_of
from bootstrap import Services
from core.pseudonyms import keyed_hash
from core.settings import Settings
from devstack.instrumented import counted_services
from devstack.services import SENDGRID_LOCAL_KEY, StackPorts
from devstack.stack import LocalStack
from functions.fanout.dispatch import DispatchMessage
from functions.fanout.lifecycle import DISPATCH_QUEUE
from functions.incidents.incident_record import BreachTime, NoticeContent
from functions.incidents.recipient_record import Recipient
from functions.incidents.staff import IncidentFacts

SIZES = (10_000, 100_000)
CONTENT = NoticeContent(
    **{name: f"The {name.replace('_', ' ')} of this notice." for name in NoticeContent.model_fields}
)


class LocalQueue:
    """The dispatch chain in process: the benchmark measures the worker, not the queue service."""

    def __init__(self) -> None:
        self.messages: deque[dict[str, Any]] = deque()

    def send(self, queue: str, message: Mapping[str, Any], delay: timedelta | None = None) -> None:
        if queue == DISPATCH_QUEUE:
            self.messages.append(dict(message))

    def peek_poison(self, queue: str, limit: int) -> list[dict[str, Any]]:
        return []

    def ping(self) -> None:
        return None


def _prepared_notice(svc: Services, size: int) -> tuple[str, str]:
    staff = svc.incident_staff
    now = datetime.now(UTC)
    facts = IncidentFacts("Benchmark breach", now, "A benchmark.", "dpo@example.com", BreachTime(kind="date", at=now))
    incident_id = staff.open(facts, "bench").id
    pepper = svc.settings.get("SUBJECT_HASH_PEPPER")
    for n in range(size):
        email = f"bench-{n:06d}@example.com"
        svc.incidents.add_recipient(
            Recipient(id=keyed_hash(pepper, email), incident_id=incident_id, email=email, source="upload")
        )
    svc.incidents.change(incident_id, lambda i: setattr(i, "recipients", size))
    notice_id = staff.draft_notice(incident_id, "Benchmark notice", CONTENT, "bench").notices[-1].id
    staff.approve_notice(incident_id, notice_id, "bench-2")
    return incident_id, notice_id


def _bare_send(client: SendGridAPIClient, recipients: list[str]) -> None:
    body = {
        "personalizations": [{"to": [{"email": a}]} for a in recipients],
        "from": {"email": "privacy@softwareengineeringconcepts.com"},
        "subject": "Benchmark notice",
        "content": [{"type": "text/plain", "value": "x" * 2000}, {"type": "text/html", "value": "<p>x</p>" * 250}],
    }
    client.client.mail.send.post(request_body=body)


def _dispatch(
    svc: Services, queue: LocalQueue, incident_id: str, notice_id: str, bare: SendGridAPIClient | None
) -> tuple[int, list[tuple[float, float]]]:
    svc.incident_staff.send_notice(incident_id, notice_id, "bench")
    pairs, requests = [], 0
    while queue.messages:
        message = DispatchMessage.parse(queue.messages.popleft())
        assert message is not None
        start = time.perf_counter()
        svc.fan_out.run(message, f"bench-{uuid.uuid4().hex}")
        worker = time.perf_counter() - start
        batch = svc.mail_batches.get(notice_id, f"{notice_id}-{message.seq:06d}")
        if batch is None:
            continue
        requests += 1
        if bare is not None:
            start = time.perf_counter()
            _bare_send(bare, [r.email for r in batch.recipients])
            pairs.append((worker, time.perf_counter() - start))
    return requests, pairs


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(StackPorts.free(), Path(state), persistent=False, settings_file=None)
        stack.start_backends()
        try:
            counted, _, _ = counted_services(Settings(stack.app_settings()))
            queue = LocalQueue()
            svc = Services.with_edges(counted.settings, documents=counted.documents, work_queue=queue)
            bare = SendGridAPIClient(api_key=SENDGRID_LOCAL_KEY, host=stack.mail_url)
            rows = []
            for size in SIZES:
                incident_id, notice_id = _prepared_notice(svc, size)
                requests, pairs = _dispatch(svc, queue, incident_id, notice_id, bare if size == SIZES[-1] else None)
                traced_incident, traced_notice = _prepared_notice(svc, size)
                tracemalloc.start()
                _dispatch(svc, queue, traced_incident, traced_notice, None)
                peak = tracemalloc.get_traced_memory()[1] / 2**20
                tracemalloc.stop()
                rows.append((size, requests, pairs, peak))
        finally:
            stack.stop()
    print("(f) a breach notice to many people, in-process against the local stack")
    for size, requests, pairs, peak in rows:
        print(f"    {size:7d} recipients: {requests} SendGrid requests, peak traced memory {peak:.1f} MiB")
        if pairs:
            ratio = ratio_of(pairs)
            print(
                f"    per batch: fan-out {ratio.a_seconds * 1000:.1f} ms beside the bare SDK sending it "
                f"{ratio.b_seconds * 1000:.1f} ms, {len(pairs)} interleaved pairs: {ratio.text()}"
            )
    (small, *_), (large, *_) = rows[0], rows[-1]
    print(f"    memory {rows[-1][3] / rows[0][3]:.2f}x for {large / small:.0f}x the recipients (goal: flat)")


if __name__ == "__main__":
    main()
