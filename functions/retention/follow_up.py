"""What a legal hold does beyond itself: while in force, the archives it covers are marked held (the
storage lifecycle rule leaves them); once it ends, they are freed unless another hold covers them,
and the erasures it held back run again. Both are repeated by every purge run, so a failure on the
way (storage down while staff placed the hold) is mended by the next run."""

from __future__ import annotations

import logging

from functions.inventory.holds import HeldSet
from functions.inventory.ports import ArchiveStore
from functions.retention.hold_record import LegalHold
from functions.retention.hold_repository import LegalHoldRepository
from functions.retention.ports import HeldRequests

log = logging.getLogger("privacy.retention")


class HoldFollowUp:
    def __init__(self, holds: LegalHoldRepository, archives: ArchiveStore, requests: HeldRequests) -> None:
        self._holds = holds
        self._archives = archives
        self._requests = requests

    def hold_archives(self, hold: LegalHold) -> None:
        for name in self._archives_of(hold):
            self._archives.mark_held(name, True)

    def ended(self, hold: LegalHold, actor: str) -> list[str]:
        """Frees the hold's archives (those no other hold covers), resumes the erasures it held back,
        and notes the hold followed up; returns the requests resumed. Safe to repeat."""
        in_force = self._holds.in_force()
        for name in self._archives_of(hold):
            if not _covered(name, in_force):
                self._archives.mark_held(name, False)
        resumed = self._requests.resume_after_hold(hold.id, actor)
        if self._requests.held_back_by(hold.id):  # one still had a step running: the next run tries again
            log.info("legal hold follow-up not complete hold_id=%s erasures_resumed=%d", hold.id, len(resumed))
            return resumed

        def followed_up(h: LegalHold) -> None:
            h.followed_up = True

        self._holds.change(hold.id, followed_up)
        log.info("legal hold followed up hold_id=%s erasures_resumed=%d", hold.id, len(resumed))
        return resumed

    def reconcile(self, actor: str) -> int:
        """Every hold in force keeps its archives held; every hold that ended is followed up. Returns
        how many ended holds were followed up."""
        for hold in self._holds.listed(in_force=True):
            self.hold_archives(hold)
        ended = self._holds.to_follow_up()
        for hold in ended:
            self.ended(hold, actor)
        return len(ended)

    def _archives_of(self, hold: LegalHold) -> list[str]:
        if hold.request_id is not None:
            target = self._requests.target(hold.request_id)
            return [target.archive] if target is not None and target.archive else []
        return self._archives.archive_names(hold.subject_key) if hold.subject_key else []


def _covered(archive: str, holds: HeldSet) -> bool:
    """Archives are named ``{subject_key}/{request_id}.zip``."""
    subject_key, _, file = archive.partition("/")
    return subject_key in holds.subject_keys or file.removesuffix(".zip") in holds.request_ids
