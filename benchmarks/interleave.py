"""Ratios measured interleaved (A, B, A, B ...) so that machine noise falls on both sides alike.

Each pair gives one ratio A/B; the figure is the median ratio with its spread (10th to 90th
percentile), beside the median time of each side.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Ratio:
    a_seconds: float  # median time of A
    b_seconds: float  # median time of B
    median: float  # median of the per-pair ratios A/B
    low: float  # 10th percentile of the ratios
    high: float  # 90th percentile

    def text(self, goal: str = "") -> str:
        spread = f"median {self.median:.2f}, spread {self.low:.2f}-{self.high:.2f} (p10-p90)"
        return f"{spread}{f'  (goal {goal})' if goal else ''}"


def ratio_of(samples: list[tuple[float, float]]) -> Ratio:
    ratios = sorted(a / b for a, b in samples)
    deciles = statistics.quantiles(ratios, n=10) if len(ratios) >= 2 else [ratios[0]] * 9
    return Ratio(
        a_seconds=statistics.median(a for a, _ in samples),
        b_seconds=statistics.median(b for _, b in samples),
        median=statistics.median(ratios),
        low=deciles[0],
        high=deciles[-1],
    )


def _seconds(operation: Callable[[], object]) -> float:
    start = time.perf_counter()
    operation()
    return time.perf_counter() - start


def interleaved(a: Callable[[], object], b: Callable[[], object], pairs: int) -> Ratio:
    """Runs A then B, ``pairs`` times, and compares them pair by pair."""
    return ratio_of([(_seconds(a), _seconds(b)) for _ in range(pairs)])
