"""A data-subject request and its step log, as stored in the ``dsr-requests`` container."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACCESS, ERASURE = "access", "erasure"

AWAITING_VERIFICATION = "awaiting-verification"
AWAITING_APPROVAL = "awaiting-approval"
IN_PROGRESS = "in-progress"
COMPLETED = "completed"
DENIED = "denied"
CLOSED_UNVERIFIED = "closed-unverified"
FAILED = "failed"
OPEN_STATUSES = (AWAITING_VERIFICATION, AWAITING_APPROVAL, IN_PROGRESS, FAILED)

PENDING, RUNNING, DONE = "pending", "running", "done"

STEPS_QUEUE = "dsr-steps"  # declared in declarations/storage.json
RESOLVE_STEP = "resolve-subject"
DELIVER_STEP = "deliver"


@dataclass
class Step:
    name: str
    status: str = PENDING
    attempts: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    confirmations: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None  # an exception type, never a message (it may hold personal data)

    def to_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "attempts": self.attempts,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "counts": self.counts,
            "confirmations": self.confirmations,
            "error": self.error,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Step:
        return cls(
            name=doc["name"],
            status=doc["status"],
            attempts=int(doc.get("attempts", 0)),
            started_at=doc.get("startedAt"),
            finished_at=doc.get("finishedAt"),
            counts={k: int(v) for k, v in doc.get("counts", {}).items()},
            confirmations=list(doc.get("confirmations", [])),
            error=doc.get("error"),
        )


@dataclass
class DsrRequest:
    id: str
    type: str
    status: str
    jurisdiction: str
    subject_key: str  # keyed hash of the email: finds the person's requests without storing the email twice
    email: str | None  # in clear only while mail must still be sent; removed when the request closes
    received_at: str
    due_at: str
    max_due_at: str
    acknowledge_by: str | None
    source: str  # website | dashboard | under-13
    on_behalf_of_child: bool = False
    user_id: str | None = None
    stripe_customer_ids: list[str] = field(default_factory=list)
    verification_nonce: str | None = None
    verification_mails: int = 0  # sent in the current window (one link lifetime)
    verification_window_start: str | None = None
    verified_at: str | None = None
    decision: dict[str, str] | None = None
    extension: dict[str, str] | None = None
    archive_blob: str | None = None
    certificate: dict[str, Any] | None = None
    steps: list[Step] = field(default_factory=list)
    log: list[dict[str, str]] = field(default_factory=list)
    etag: str | None = None

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def next_pending_step(self) -> Step | None:
        return next((s for s in self.steps if s.status != DONE), None)

    def note(self, at: datetime, actor: str, action: str, detail: str = "") -> None:
        self.log.append({"at": at.isoformat(), "actor": actor, "action": action, "detail": detail})

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "jurisdiction": self.jurisdiction,
            "subjectKey": self.subject_key,
            "email": self.email,
            "receivedAt": self.received_at,
            "dueAt": self.due_at,
            "maxDueAt": self.max_due_at,
            "acknowledgeBy": self.acknowledge_by,
            "source": self.source,
            "onBehalfOfChild": self.on_behalf_of_child,
            "userId": self.user_id,
            "stripeCustomerIds": self.stripe_customer_ids,
            "verificationNonce": self.verification_nonce,
            "verificationMails": self.verification_mails,
            "verificationWindowStart": self.verification_window_start,
            "verifiedAt": self.verified_at,
            "decision": self.decision,
            "extension": self.extension,
            "archiveBlob": self.archive_blob,
            "certificate": self.certificate,
            "steps": [s.to_document() for s in self.steps],
            "log": self.log,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any], etag: str | None = None) -> DsrRequest:
        return cls(
            id=doc["id"],
            type=doc["type"],
            status=doc["status"],
            jurisdiction=doc["jurisdiction"],
            subject_key=doc["subjectKey"],
            email=doc.get("email"),
            received_at=doc["receivedAt"],
            due_at=doc["dueAt"],
            max_due_at=doc["maxDueAt"],
            acknowledge_by=doc.get("acknowledgeBy"),
            source=doc["source"],
            on_behalf_of_child=bool(doc.get("onBehalfOfChild", False)),
            user_id=doc.get("userId"),
            stripe_customer_ids=list(doc.get("stripeCustomerIds", [])),
            verification_nonce=doc.get("verificationNonce"),
            verification_mails=int(doc.get("verificationMails", 0)),
            verification_window_start=doc.get("verificationWindowStart"),
            verified_at=doc.get("verifiedAt"),
            decision=doc.get("decision"),
            extension=doc.get("extension"),
            archive_blob=doc.get("archiveBlob"),
            certificate=doc.get("certificate"),
            steps=[Step.from_document(s) for s in doc.get("steps", [])],
            log=list(doc.get("log", [])),
            etag=etag,
        )


@dataclass(frozen=True)
class Intake:
    type: str
    email: str
    jurisdiction: str
    on_behalf_of_child: bool
    source: str
    user_id: str | None = None
