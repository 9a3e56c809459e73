"""Checking a subject's chain: every event's own hash, every link, nothing missing up to the head."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from functions.consent.ledger import GENESIS_HASH, ConsentEvent


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str  # "altered", "missing", "broken-link", "head-mismatch"


@dataclass(frozen=True)
class ChainVerification:
    valid: bool
    event_count: int
    head_hash: str
    problems: tuple[ChainProblem, ...]
    checkpoint: tuple[int, str] | None = None  # (seq, hash): the events up to seq were removed by retention


def verify_chain(
    events: Iterable[ConsentEvent],
    recorded_head: tuple[int, str] | None,
    checkpoint: tuple[int, str] | None = None,
) -> ChainVerification:
    """Check every event's own hash, every link, and that nothing is missing up to the recorded head.

    ``checkpoint`` (seq, hash): retention removed the events up to seq, whose last hash the state kept;
    the chain is checked from there."""
    problems: list[ChainProblem] = []
    expected_seq = 1 if checkpoint is None else checkpoint[0] + 1
    prev_hash = GENESIS_HASH if checkpoint is None else checkpoint[1]
    count = 0
    for event in sorted(events, key=lambda e: e.seq):
        count += 1
        while expected_seq < event.seq:
            problems.append(ChainProblem(expected_seq, "missing"))
            expected_seq += 1
        if event.computed_hash() != event.hash or not event.commitments_match():
            problems.append(ChainProblem(event.seq, "altered"))
        if event.prev_hash != prev_hash:
            problems.append(ChainProblem(event.seq, "broken-link"))
        prev_hash = event.hash
        expected_seq = event.seq + 1
    if recorded_head is not None:
        head_seq, head_hash = recorded_head
        while expected_seq <= head_seq:
            problems.append(ChainProblem(expected_seq, "missing"))
            expected_seq += 1
        if head_seq == expected_seq - 1 and head_seq > 0 and head_hash != prev_hash:
            problems.append(ChainProblem(head_seq, "head-mismatch"))
    return ChainVerification(
        valid=not problems, event_count=count, head_hash=prev_hash, problems=tuple(problems), checkpoint=checkpoint
    )
