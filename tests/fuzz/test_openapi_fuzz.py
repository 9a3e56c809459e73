"""The OpenAPI document is the contract: Schemathesis fuzzes every operation of the document the app
serves, through the local Functions host, with every check on, in three modes (no credentials; a
user token and the function key; a staff token with every role the app checks).

Each mode is one run of the CLI (scripts/schemathesis.sh, settings in schemathesis.toml: a fixed
seed and a bounded number of examples per operation). Its JUnit and JSON reports are read back; a
5xx, a response that breaks its schema, an undocumented status or content type, a schema-violating
request accepted or a schema-valid one refused, all fail the test. Runs last in the session
(tests/conftest.py): as staff it publishes purposes and policy versions.
"""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import pytest

from devstack.devkeys import DevIdentityProvider
from devstack.stack import LocalStack
from functions.audit.handlers import AUDITOR_ROLE
from functions.consent.handlers import PUBLISHER_ROLE
from functions.incidents.lifecycle import INCIDENT_ROLE
from functions.notices.lifecycle import LEGAL_ROLE
from functions.requests.staff_handlers import OFFICER_ROLE
from tests.fuzz.figures import FIGURES

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
STAFF_ROLES = sorted({OFFICER_ROLE, PUBLISHER_ROLE, AUDITOR_ROLE, INCIDENT_ROLE, LEGAL_ROLE})
MODES = ("anonymous", "user-and-function-key", "staff")
# The logs that must never hold an address (as in tests/e2e/test_requests_http.py): the host's and
# the stand-ins' for the mail service and Stripe, which the app calls with the addresses it takes.
CLEAN_LOGS = ("functions.log", "mail.log", "stripe.log", "stripe-calls.log")
ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class KnownFinding:
    """A failure whose fix lies in code this test does not own; its own focused test stays red until then."""

    operations: frozenset[str]
    code: str
    detail: str  # text of the failure that singles this case out
    reason: str
    test: str

    def matches(self, finding: Finding) -> bool:
        return finding.operation in self.operations and finding.code == self.code and self.detail in finding.text


# Findings reported and set aside until fixed (none now): each names its operations, check and test.
KNOWN_FINDINGS: tuple[KnownFinding, ...] = ()


@dataclass(frozen=True)
class Finding:
    operation: str
    code: str  # STxxx, or "error" for a request that could not be made
    title: str
    text: str


def findings(junit: Path) -> list[Finding]:
    """Every failure of every test case in the JUnit report, one per check that failed."""
    found = []
    for testcase in ET.parse(junit).iter("testcase"):  # noqa: S314 - written by the run just made
        operation = testcase.get("name", "")
        for element in [*testcase.iter("failure"), *testcase.iter("error")]:
            text = element.text or ""
            if element.tag == "error":
                found.append(Finding(operation, "error", element.get("message", "error"), text))
                continue
            for case in re.split(r"\n(?=\d+\. Test Case ID: )", text):
                for part in re.split(r"\n(?=- ST\d+ )", case)[1:]:
                    head = re.match(r"- (ST\d+) (.*)", part)
                    assert head is not None, part
                    found.append(Finding(operation, head[1], head[2].strip(), case))
    return found


def strings_in(value: object) -> list[str]:
    """Every string in a JSON value, at any depth (the recipients of an incident are a list)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


def addresses_sent(har: dict[str, Any]) -> set[str]:
    """The addresses sent as query values or body values (JSON at any depth, or form), long enough
    not to turn up in a log by chance."""
    sent = set()
    for entry in har["log"]["entries"]:
        request = entry["request"]
        values = [unquote(q["value"]) for q in request["queryString"]]
        text = request.get("postData", {}).get("text", "")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        if body is None:
            values += [value for form in parse_qs(text).values() for value in form]
        else:
            values += strings_in(body)
        sent |= {value for value in values if 10 <= len(value) <= 254 and ADDRESS.fullmatch(value)}
    return sent


def shortened(text: str, width: int = 300) -> str:
    """A failure as the assertion shows it: generated bodies and URLs can be tens of kilobytes."""
    return "\n".join(line if len(line) <= width else f"{line[:width]} …" for line in text.splitlines())


def only(directory: Path, pattern: str) -> Path:
    matches = sorted(directory.glob(pattern))
    assert len(matches) == 1, f"expected one {pattern} in {directory}, found {matches}"
    return matches[0]


@pytest.fixture(scope="module")
def schemathesis() -> list[str]:
    """The CLI, installed into its own venv on the first run."""
    command = ["bash", str(ROOT / "scripts" / "schemathesis.sh")]
    version = subprocess.run([*command, "--version"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert version.returncode == 0, version.stderr
    assert "4.32.5" in version.stdout
    return command


def credentials(mode: str, stack: LocalStack, identity: tuple[DevIdentityProvider, DevIdentityProvider]) -> list[str]:
    user, staff = identity
    if mode == "anonymous":
        return []
    if mode == "user-and-function-key":
        return [f"x-functions-key: {stack.function_key}", f"Authorization: Bearer {user.token('fuzz-user')}"]
    return [f"Authorization: Bearer {staff.token('fuzz-staff', STAFF_ROLES)}"]


def test_the_staff_mode_holds_every_role_the_app_checks() -> None:
    """A role missing from the staff token leaves its operations answering 403 only, unfuzzed."""
    named = {
        role
        for path in (ROOT / "functions").rglob("*.py")
        for role in re.findall(r"[\"'](Privacy\.[A-Za-z]+)[\"']", path.read_text())
    }
    assert named
    assert sorted(named) == STAFF_ROLES


@pytest.mark.parametrize("mode", MODES)
def test_every_operation_keeps_its_documented_contract(
    mode: str,
    schemathesis: list[str],
    local_stack: LocalStack,
    functions_url: str,
    identity: tuple[DevIdentityProvider, DevIdentityProvider],
    tmp_path: Path,
) -> None:
    headers = [arg for header in credentials(mode, local_stack, identity) for arg in ("--header", header)]
    run = subprocess.run(
        [
            *schemathesis,
            "--config-file",
            str(CONFIG),
            "run",
            f"{functions_url}/openapi.json",
            "--checks",
            "all",
            "--report",
            "junit,json,har",
            "--report-dir",
            str(tmp_path),
            "--no-color",
            *headers,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    (tmp_path / "output.txt").write_text(run.stdout + run.stderr)
    summary = json.loads(only(tmp_path, "json-*.json").read_text())
    har = json.loads(only(tmp_path, "har-*.json").read_text())
    requests = len(har["log"]["entries"])
    found = findings(only(tmp_path, "junit-*.xml"))
    known = [f for f in found if any(k.matches(f) for k in KNOWN_FINDINGS)]
    failures = Counter(f"{f.code} {f.title}" for f in found if f not in known)
    operations = summary["operations"]
    FIGURES.append(
        {
            "mode": mode,
            "operations": f"{operations['tested']}/{operations['total']}",
            "requests": requests,
            "seconds": round(summary["running_time"], 1),
            "failures": dict(failures),
            "known": dict(Counter(f"{f.code} {f.operation}" for f in known)),
        }
    )
    details = "\n\n".join(shortened(f.text) for f in found if f not in known)
    assert summary["complete"], f"the run stopped early ({summary['stop_reason']}); see {tmp_path / 'output.txt'}"
    assert operations["tested"] == operations["total"] > 0, operations
    assert requests > operations["total"]
    assert not summary["errors"], summary["errors"]
    assert not failures, f"{dict(failures)} (reports in {tmp_path})\n\n{details}"
    written = [local_stack.log_dir / name for name in CLEAN_LOGS if (local_stack.log_dir / name).exists()]
    assert local_stack.log_dir / "functions.log" in written
    logs = "".join(path.read_text(errors="replace") for path in written)
    sent = addresses_sent(har)
    assert sent  # POST /api/requests takes an address in every mode
    leaked = sorted(address for address in sent if address in logs)
    assert not leaked, f"{len(leaked)} address(es) the fuzzer sent are in the logs ({', '.join(CLEAN_LOGS)})"
