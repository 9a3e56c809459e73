"""The retention purge: each rule of the inventory, through its location's class, in bounded chunks.

One run at a time: a run takes the lease first (a second run started meanwhile finds it taken and
skips, changing nothing) and renews it with every chunk, so a run that lost it (it stalled longer
than the lease) stops before doing anything more. A chunk ends half-way through the lease, whatever
the time budget, so a run that is alive renews the lease before it lapses. After each chunk the
rule's cursor is saved; a run that runs out of its time budget, or is killed, leaves ``resume_at``
and the cursors behind, and the next run starts there. A rule whose location fails (a third party
down) is reported with the error's class and left for the next run; the other rules go on. Holds are
read at the start of each rule and again once a few seconds old, before each chunk and before each
third-party call, so a hold placed during a run takes effect within ``HOLDS_FRESH_SECONDS``.
"""

from __future__ import annotations

import gc
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from functions.inventory.declaration import RetentionRule
from functions.inventory.holds import HeldSet
from functions.retention.follow_up import HoldFollowUp
from functions.retention.parts import RetentionParts
from functions.retention.run_records import RuleCursor, RuleReport, RunReport, RunState
from functions.retention.run_repository import LeaseLost

log = logging.getLogger("privacy.retention")

RUN_ACTOR = "retention"
HOLDS_FRESH_SECONDS = 5.0  # a hold placed while a run works takes effect within this long
RENEW_AT = 0.5  # of the lease: when a chunk stops so that its save renews the lease
COLLECT_EVERY_SECONDS = 1.0  # of chunks, between passes of the cycle collector (see _Collector)


class RetentionRun:
    def __init__(
        self, parts: RetentionParts, follow_up: HoldFollowUp, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._parts = parts
        self._runs = parts.runs
        self._follow_up = follow_up
        self._monotonic = monotonic  # the time budget's clock

    def run(self, trigger: str = "schedule") -> RunReport:
        config, now = self._parts.config, self._parts.clock.now()
        report = RunReport(id=uuid.uuid4().hex, trigger=trigger, started_at=now)
        taken = self._runs.take_lease(report.id, now, config.lease)
        if taken is None:
            report.outcome, report.finished_at = "skipped", now
            self._runs.save_report(report)
            log.info("retention run skipped run_id=%s: another run holds the lease", report.id)
            return report
        state, before = taken
        if before is not None:
            self._runs.mark_interrupted(before)
        self._runs.save_report(report)
        budget = _Budget(self._monotonic, config.time_budget.total_seconds(), config.lease.total_seconds())
        try:
            self._follow_up_holds(report)
            state = self._purge(state, report, budget)
            report.outcome = "failed" if report.failures else ("finished" if state.resume_at is None else "unfinished")
            self._runs.release(state)
        except LeaseLost:
            report.outcome = "failed" if report.failures else "unfinished"
            log.warning("retention run stopped run_id=%s: another run took the lease", report.id)
        report.finished_at = self._parts.clock.now()
        self._runs.save_report(report)
        log.info(
            "retention run done run_id=%s outcome=%s purged=%d held=%d",
            report.id,
            report.outcome,
            sum(r.purged for r in report.rules),
            sum(r.held for r in report.rules),
        )
        return report

    def _follow_up_holds(self, report: RunReport) -> None:
        try:
            report.holds_followed_up = self._follow_up.reconcile(RUN_ACTOR)
        except Exception as error:  # the purge goes on; the next run tries again
            report.errors.append(type(error).__name__)
            log.warning("retention hold follow-up failed run_id=%s error=%s", report.id, type(error).__name__)

    def _purge(self, state: RunState, report: RunReport, budget: _Budget) -> RunState:
        rules = list(self._parts.inventory.rules)
        ids = [rule.id for rule in rules]
        start = ids.index(state.resume_at) if state.resume_at in ids else 0
        for rule in rules[start:] + rules[:start]:
            if not budget.time_left():
                state.resume_at = rule.id
                return state
            rule_report, state = self._purge_rule(rule, state, report.id, budget)
            report.rules.append(rule_report)
            self._runs.save_report(report)
            if not rule_report.finished and not budget.time_left():  # out of time inside the rule
                state.resume_at = rule.id
                return state
        state.resume_at = None
        return state

    def _purge_rule(
        self, rule: RetentionRule, state: RunState, run_id: str, budget: _Budget
    ) -> tuple[RuleReport, RunState]:
        parts = self._parts
        location = parts.location_of(rule)
        holds = FreshHolds(parts.holds.in_force, self._monotonic)
        scope = replace(parts.scope(rule, parts.clock.now(), holds()), current_holds=holds, run_id=run_id)
        rule_report = RuleReport(rule=rule.id, location=location.id, cutoff=scope.cutoff)
        started = self._monotonic()
        cursor = state.cursor(rule.id)
        collector = _Collector()
        try:
            while budget.time_left():
                scope = replace(scope, holds=holds(), now=parts.clock.now())
                step = location.purge(scope, cursor.bookmark, location.purge_chunk, budget.chunk_time_left)
                collector.after_chunk()
                rule_report.add(step)
                for failure in step.failed:
                    log.warning(
                        "retention item failed rule=%s item=%s error=%s tries=%d",
                        rule.id,
                        failure.item,
                        failure.error,
                        failure.tries,
                    )
                stalled = step.purged == 0 and not step.done and step.bookmark == cursor.bookmark
                cursor = RuleCursor(done=step.done, bookmark=step.bookmark, run_id=run_id, updated_at=scope.now)
                state.cursors[rule.id] = cursor
                state = self._runs.save(state, parts.clock.now(), parts.config.lease)
                budget.renewed()
                if step.broken:  # the location fails item after item: the next run tries again
                    log.warning("retention rule failed rule=%s error=%s", rule.id, step.broken)
                    break
                if step.done or (stalled and step.examined > 0):
                    # Stalled: every item of the chunk was left (changed meanwhile); the next run looks again.
                    rule_report.finished = True
                    break
        except LeaseLost:
            raise
        except Exception as error:
            rule_report.errors.append(type(error).__name__)
            log.warning("retention rule failed rule=%s error=%s", rule.id, type(error).__name__)
        rule_report.duration_ms = int((self._monotonic() - started) * 1000)
        log.info(
            "retention rule=%s examined=%d purged=%d held=%d skipped=%d finished=%s",
            rule.id,
            rule_report.examined,
            rule_report.purged,
            rule_report.held,
            rule_report.skipped,
            rule_report.finished,
        )
        return rule_report, state


class FreshHolds:
    """The holds in force, read again when the last read is older than HOLDS_FRESH_SECONDS: asked
    before each chunk and, by third-party kinds, before each call."""

    def __init__(self, read: Callable[[], HeldSet], monotonic: Callable[[], float]) -> None:
        self._read, self._monotonic = read, monotonic
        self._held, self._read_at = read(), monotonic()

    def __call__(self) -> HeldSet:
        if self._monotonic() - self._read_at > HOLDS_FRESH_SECONDS:
            self._held, self._read_at = self._read(), self._monotonic()
        return self._held


class _Collector:
    """The Cosmos SDK's query iterators are reference cycles that keep their last page: only a full
    pass of the cycle collector frees them, and in a large heap that runs rarely, so a long run would
    hold the pages of many chunks. A pass (about 20 ms) once a second of chunks keeps a run's memory
    that of its last chunks, however many it purges (benchmarks.retention)."""

    def __init__(self) -> None:
        self._last = time.monotonic()  # the process's time: this is about its memory, not the run's clock

    def after_chunk(self) -> None:
        if time.monotonic() - self._last >= COLLECT_EVERY_SECONDS:
            gc.collect()
            self._last = time.monotonic()


class _Budget:
    """A run's time: its budget, and the lease it renews with each chunk's save. A chunk ends once half
    the lease has passed since the last renewal, however long the budget, so a slow third party never
    lets the lease lapse under a chunk (RetentionConfig refuses a lease too short for this)."""

    def __init__(self, monotonic: Callable[[], float], budget_seconds: float, lease_seconds: float) -> None:
        self._monotonic = monotonic
        self._deadline = monotonic() + budget_seconds
        self._renew_after = lease_seconds * RENEW_AT
        self._renewed_at = monotonic()  # the lease was just taken

    def time_left(self) -> bool:
        return self._monotonic() < self._deadline

    def chunk_time_left(self) -> bool:
        return self.time_left() and self._monotonic() - self._renewed_at < self._renew_after

    def renewed(self) -> None:
        self._renewed_at = self._monotonic()
