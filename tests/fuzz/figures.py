"""What each fuzzing run measured, printed at the end of the session (conftest.py)."""

from __future__ import annotations

from typing import Any

FIGURES: list[dict[str, Any]] = []


def lines() -> list[str]:
    rendered = []
    for run in FIGURES:
        failures = ", ".join(f"{kind}: {count}" for kind, count in sorted(run["failures"].items())) or "none"
        rendered.append(
            f"{run['mode']}: {run['operations']} operations, {run['requests']} requests, "
            f"{run['seconds']} s; failures: {failures}"
        )
        for kind, count in sorted(run["known"].items()):
            rendered.append(f"    reported, not counted: {kind} ({count})")
    return rendered
