"""The consent ledger's pure logic: events, their hash chain and the state they fold into.

Each subject (a signed-in user or an anonymous visitor) has an append-only chain of events. Every
event holds the hash of the one before it, so a changed, missing or re-ordered event is detectable.
The current state is a fold of the chain, stored beside it for one-read lookups. Checking a chain
is in chain.py.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.canonical import canonical_json
from functions.consent.retry_keys import KeyUse

GENESIS_HASH = "0" * 64
EVENT_ID_WIDTH = 12


class Source(StrEnum):
    BANNER = "banner"
    DASHBOARD = "dashboard"
    API = "api"
    GPC = "gpc"
    LINK = "link"
    UNSUBSCRIBE_LINK = "unsubscribe-link"  # the one-click link in a marketing mail
    SENDGRID = "sendgrid"  # SendGrid's own unsubscribe link, group unsubscribe or spam report
    DEVICE = "device"  # the product saw the device's settings change
    STAFF = "staff"  # staff acting on a person's emailed request
    ERASURE = "erasure"  # the person's data was erased: nothing of theirs may be used any more


class EventKind(StrEnum):
    DECISION = "decision"
    VISITOR_LINKED = "visitor-linked"  # on the user's chain: consents carried over from a visitor
    LINKED_TO_USER = "linked-to-user"  # on the visitor's chain: it now belongs to a user


@dataclass(frozen=True)
class Decision:
    granted: bool
    source: Source
    # An explicit opt-in given while the browser sent a Global Privacy Control signal: GPC must not
    # undo it (the person chose after the signal), while any other grant yields to the signal.
    overrides_gpc: bool = False

    def to_content(self) -> dict[str, Any]:
        content: dict[str, Any] = {"granted": self.granted, "source": self.source.value}
        if self.overrides_gpc:
            content["overridesGpc"] = True
        return content

    @classmethod
    def from_content(cls, content: Mapping[str, Any]) -> Decision:
        return cls(
            granted=bool(content["granted"]),
            source=Source(content["source"]),
            overrides_gpc=bool(content.get("overridesGpc", False)),
        )


@dataclass(frozen=True)
class EventContext:
    """What proof of consent needs besides the decisions themselves (GDPR Art. 7(1))."""

    source: Source
    policy_version: str
    notice_text_hash: str
    recorded_at: datetime
    jurisdiction: str | None = None
    ip_truncated: str | None = None
    user_agent: str | None = None
    actor: str | None = None  # the staff member who recorded it for the person (source staff)


@dataclass(frozen=True)
class ConsentEvent:
    subject_id: str
    seq: int
    prev_hash: str
    kind: EventKind
    decisions: Mapping[str, Decision]
    context: EventContext
    idempotency_key: str
    linked_subject: str | None = None
    hash: str = ""
    # The IP network and user agent are covered by salted commitments, not by their clear values:
    # erasing the clear values and the salt later keeps the chain verifiable and the proof
    # pseudonymous (a bare hash of a /24 network could be brute-forced; a salted one cannot).
    proof_salt: str | None = None
    stored_commitments: Mapping[str, str | None] | None = field(default=None, compare=False)

    @property
    def event_id(self) -> str:
        return event_id(self.seq)

    def content(self) -> dict[str, Any]:
        """Everything the hash covers, in a stable shape."""
        ctx = self.context
        return {
            "subjectId": self.subject_id,
            "seq": self.seq,
            "prevHash": self.prev_hash,
            "kind": self.kind.value,
            "decisions": {purpose: d.to_content() for purpose, d in sorted(self.decisions.items())},
            "source": ctx.source.value,
            "policyVersion": ctx.policy_version,
            "noticeTextHash": ctx.notice_text_hash,
            "recordedAt": ctx.recorded_at.isoformat(),
            "jurisdiction": ctx.jurisdiction,
            "ipCommitment": self._commitment("ip", ctx.ip_truncated),
            "userAgentCommitment": self._commitment("ua", ctx.user_agent),
            "idempotencyKey": self.idempotency_key,
            "linkedSubject": self.linked_subject,
            # Only when set, so that the hashes of events recorded before it existed stay valid.
            **({"actor": ctx.actor} if ctx.actor else {}),
        }

    def _commitment(self, label: str, value: str | None) -> str | None:
        if self.stored_commitments is not None:
            return self.stored_commitments.get(label)
        return self._fresh_commitment(label, value)

    def _fresh_commitment(self, label: str, value: str | None) -> str | None:
        if value is None or self.proof_salt is None:
            return None
        return hashlib.sha256(f"{self.proof_salt}|{label}|{value}".encode()).hexdigest()

    def commitments_match(self) -> bool:
        """Clear values still present must be the ones the chain committed to."""
        if self.stored_commitments is None or self.proof_salt is None:
            return True
        return all(
            self.stored_commitments.get(label) == self._fresh_commitment(label, value)
            for label, value in (("ip", self.context.ip_truncated), ("ua", self.context.user_agent))
            if value is not None
        )

    def pseudonymized(self) -> ConsentEvent:
        """Without IP network, user agent and salt; the commitments (and so the hash) stay."""
        content = self.content()
        return replace(
            self,
            context=replace(self.context, ip_truncated=None, user_agent=None),
            proof_salt=None,
            stored_commitments={"ip": content["ipCommitment"], "ua": content["userAgentCommitment"]},
        )

    def computed_hash(self) -> str:
        return content_hash(self.content())

    def sealed(self) -> ConsentEvent:
        return replace(self, hash=self.computed_hash())

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            **self.content(),
            "ipTruncated": self.context.ip_truncated,
            "userAgent": self.context.user_agent,
            "proofSalt": self.proof_salt,
            "hash": self.hash,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ConsentEvent:
        return cls(
            subject_id=doc["subjectId"],
            seq=int(doc["seq"]),
            prev_hash=doc["prevHash"],
            kind=EventKind(doc["kind"]),
            decisions={purpose: Decision.from_content(d) for purpose, d in doc.get("decisions", {}).items()},
            context=EventContext(
                source=Source(doc["source"]),
                policy_version=doc["policyVersion"],
                notice_text_hash=doc["noticeTextHash"],
                recorded_at=datetime.fromisoformat(doc["recordedAt"]),
                jurisdiction=doc.get("jurisdiction"),
                ip_truncated=doc.get("ipTruncated"),
                user_agent=doc.get("userAgent"),
                actor=doc.get("actor"),
            ),
            idempotency_key=doc["idempotencyKey"],
            linked_subject=doc.get("linkedSubject"),
            hash=doc.get("hash", ""),
            proof_salt=doc.get("proofSalt"),
            stored_commitments={"ip": doc.get("ipCommitment"), "ua": doc.get("userAgentCommitment")},
        )


def content_hash(content: Mapping[str, Any]) -> str:
    """An event's hash: SHA-256 of the canonical JSON of its content (anyone can recompute it)."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def event_id(seq: int) -> str:
    # Deterministic ids per sequence number: two writers racing for the same place in the chain
    # collide on create, so the chain can never fork.
    return f"e{seq:0{EVENT_ID_WIDTH}d}"


@dataclass(frozen=True)
class PurposeState:
    granted: bool
    source: Source
    policy_version: str
    decided_at: datetime
    seq: int
    overrides_gpc: bool = False


def request_fingerprint(
    kind: EventKind, decisions: Mapping[str, Decision], policy_version: str, linked_subject: str | None
) -> str:
    """What a write asked for: a retry with the same key must ask for the same thing."""
    asked = {
        "kind": kind.value,
        "decisions": {purpose: d.to_content() for purpose, d in sorted(decisions.items())},
        "policyVersion": policy_version,
        "linkedSubject": linked_subject,
    }
    return hashlib.sha256(json.dumps(asked, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class ConsentState:
    subject_id: str
    seq: int = 0
    head_hash: str = GENESIS_HASH
    purposes: Mapping[str, PurposeState] = field(default_factory=dict)
    linked_to: str | None = None
    recent_keys: Mapping[str, KeyUse] = field(default_factory=dict)
    last_event_at: datetime | None = None
    # When the subject's account ended (closed or erased): the clock of its proof's retention. A new
    # event means the subject is back, so it clears this.
    account_ended_at: datetime | None = None
    # Retention removed the events up to this one; the chain goes on from its hash (a checkpoint).
    purged_through: int = 0
    purged_head_hash: str | None = None

    @property
    def any_granted(self) -> bool:
        return any(p.granted for p in self.purposes.values())

    @property
    def checkpoint(self) -> tuple[int, str] | None:
        return (self.purged_through, self.purged_head_hash) if self.purged_head_hash else None

    def retired(self) -> ConsentState:
        """The state once retention has taken its events: no decisions, no keys, the head kept as the
        checkpoint a later event of a returning subject chains on from."""
        return replace(
            self, purposes={}, recent_keys={}, linked_to=None, purged_through=self.seq, purged_head_hash=self.head_hash
        )

    def with_account_ended(self, at: datetime) -> ConsentState:
        return self if self.account_ended_at is not None else replace(self, account_ended_at=at)

    def key_use(self, key: str, now: datetime) -> KeyUse | None:
        """The use of ``key`` still inside the window, if any."""
        use = self.recent_keys.get(key)
        return use if use is not None and use.fresh(now) else None

    def decisions_in_window(self, now: datetime) -> int:
        return sum(1 for use in self.recent_keys.values() if use.fresh(now))

    def apply(self, event: ConsentEvent) -> ConsentState:
        if event.seq != self.seq + 1 or event.prev_hash != self.head_hash:
            raise ValueError("event does not continue this chain")
        purposes = dict(self.purposes)
        for purpose, decision in event.decisions.items():
            purposes[purpose] = PurposeState(
                granted=decision.granted,
                source=decision.source,
                policy_version=event.context.policy_version,
                decided_at=event.context.recorded_at,
                seq=event.seq,
                overrides_gpc=decision.overrides_gpc,
            )
        now = event.context.recorded_at
        keys = {key: use for key, use in self.recent_keys.items() if use.fresh(now)}
        fingerprint = request_fingerprint(
            event.kind, event.decisions, event.context.policy_version, event.linked_subject
        )
        keys[event.idempotency_key] = KeyUse(event.seq, fingerprint, now)
        linked_to = event.linked_subject if event.kind is EventKind.LINKED_TO_USER else self.linked_to
        return ConsentState(
            subject_id=self.subject_id,
            seq=event.seq,
            head_hash=event.hash,
            purposes=purposes,
            linked_to=linked_to,
            recent_keys=keys,
            last_event_at=event.context.recorded_at,
            purged_through=self.purged_through,
            purged_head_hash=self.purged_head_hash,
        )

    def next_event(
        self,
        kind: EventKind,
        decisions: Mapping[str, Decision],
        context: EventContext,
        idempotency_key: str,
        linked_subject: str | None = None,
    ) -> ConsentEvent:
        return ConsentEvent(
            subject_id=self.subject_id,
            seq=self.seq + 1,
            prev_hash=self.head_hash,
            kind=kind,
            decisions=dict(decisions),
            context=context,
            idempotency_key=idempotency_key,
            linked_subject=linked_subject,
            proof_salt=secrets.token_hex(16),
        ).sealed()

    def to_document(self) -> dict[str, Any]:
        return {
            "id": STATE_DOCUMENT_ID,
            "subjectId": self.subject_id,
            "seq": self.seq,
            "headHash": self.head_hash,
            "purposes": {
                purpose: {
                    "granted": p.granted,
                    "source": p.source.value,
                    "policyVersion": p.policy_version,
                    "decidedAt": p.decided_at.isoformat(),
                    "seq": p.seq,
                    "overridesGpc": p.overrides_gpc,
                }
                for purpose, p in self.purposes.items()
            },
            "linkedTo": self.linked_to,
            "recentKeys": {key: use.to_document() for key, use in self.recent_keys.items()},
            # Read by the retention purge (indexed): when the chain last changed, whether anything is
            # in force, since when each purpose that is not in force has been so, when the account ended.
            "lastEventAt": _utc_text(self.last_event_at),
            "anyGranted": self.any_granted,
            "withdrawnAt": {
                purpose: _utc_text(p.decided_at) for purpose, p in sorted(self.purposes.items()) if not p.granted
            },
            "accountEndedAt": _utc_text(self.account_ended_at),
            "purgedThrough": self.purged_through,
            "purgedHeadHash": self.purged_head_hash,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ConsentState:
        return cls(
            subject_id=doc["subjectId"],
            seq=int(doc["seq"]),
            head_hash=doc["headHash"],
            purposes={
                purpose: PurposeState(
                    granted=bool(p["granted"]),
                    source=Source(p["source"]),
                    policy_version=p["policyVersion"],
                    decided_at=datetime.fromisoformat(p["decidedAt"]),
                    seq=int(p["seq"]),
                    overrides_gpc=bool(p.get("overridesGpc", False)),
                )
                for purpose, p in doc.get("purposes", {}).items()
            },
            linked_to=doc.get("linkedTo"),
            recent_keys={str(k): KeyUse.from_document(v) for k, v in doc.get("recentKeys", {}).items()},
            last_event_at=_parsed(doc.get("lastEventAt")),
            account_ended_at=_parsed(doc.get("accountEndedAt")),
            purged_through=int(doc.get("purgedThrough") or 0),
            purged_head_hash=doc.get("purgedHeadHash"),
        )


def _utc_text(moment: datetime | None) -> str | None:
    """A time as retention compares it: ISO text in UTC with ``Z`` (orders like time as text)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _parsed(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


STATE_DOCUMENT_ID = "state"
