"""The people a breach affects, as stored in ``incident-recipients`` (one partition per incident)."""

from __future__ import annotations

from core.models import VersionedDocument


class Recipient(VersionedDocument):
    id: str  # keyed hash of the address: one recipient per address, however it was found
    incident_id: str
    # None once retention removed it (its notices sent and their delivery followed); recording the
    # person again gives it back, for a later notice
    email: str | None = None
    user_id: str | None = None
    source: str  # upload | selection
