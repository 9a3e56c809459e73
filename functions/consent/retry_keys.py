"""Retry keys of the consent ledger: each key a write used, remembered beside the state for a
window, with what it asked for, so that a retry finds its event and a reused key is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# A retry key is remembered for this long after its event, whatever comes after it. Within that
# window one subject may record at most this many decisions: more is refused, never forgotten.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_DECISIONS_PER_WINDOW = 1000


@dataclass(frozen=True)
class KeyUse:
    """An idempotency key seen: the event it recorded, what was asked, and when."""

    seq: int
    fingerprint: str | None  # None for keys stored before fingerprints were kept: they match any retry
    recorded_at: datetime

    def fresh(self, now: datetime) -> bool:
        return now - self.recorded_at < IDEMPOTENCY_WINDOW

    def to_document(self) -> dict[str, Any]:
        return {"seq": self.seq, "fingerprint": self.fingerprint, "at": self.recorded_at.isoformat()}

    @classmethod
    def from_document(cls, value: Any) -> KeyUse:
        if isinstance(value, int):  # the earlier form: the sequence number alone
            return cls(value, None, datetime.fromtimestamp(0, UTC))
        return cls(int(value["seq"]), value.get("fingerprint"), datetime.fromisoformat(value["at"]))
