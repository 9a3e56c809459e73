"""Prints the fuzzer's figures for each mode at the end of the session."""

from __future__ import annotations

import pytest

from tests.fuzz import figures


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if figures.FIGURES:
        terminalreporter.section("OpenAPI fuzzing (schemathesis)")
        for line in figures.lines():
            terminalreporter.write_line(line)
