#!/usr/bin/env bash
# Static security checks of the Bicep templates (infra/) with checkov.
#
# Checkov lives in its own virtual environment (.venv-checkov, created on first run from
# requirements-checkov.txt) because its dependency pins clash with the project's test tools.
# Configuration and the justified skips: .checkov.yaml. Exits non-zero when a check fails, when a
# template cannot be parsed (checkov would otherwise skip the file silently) or when nothing was scanned.
#
# Usage: scripts/checkov.sh            (from anywhere in the repository)
# Env:   PYTHON=/path/to/python        interpreter for the venv (default: python3.11, else python3)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

venv="$repo_root/.venv-checkov"
requirements="$repo_root/requirements-checkov.txt"
stamp="$venv/.requirements-checkov.txt"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if [[ ! -x "$venv/bin/checkov" ]] || ! cmp -s "$requirements" "$stamp"; then
  echo "checkov.sh: installing checkov into $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

results_dir="$(mktemp -d)"
trap 'rm -rf "$results_dir"' EXIT

# No call home: the Prisma Cloud guideline download would only add links to the report.
export BC_SKIP_MAPPING=TRUE
export CHECKOV_SKIP_DOWNLOAD=TRUE

status=0
"$venv/bin/checkov" \
  --config-file "$repo_root/.checkov.yaml" \
  --framework bicep \
  --directory infra \
  --output cli --output json \
  --output-file-path "console,$results_dir/results.json" || status=$?

# The JSON report is the source of truth for the summary: fail on any failed check, on parsing errors
# (an unparsable file is otherwise left out of the scan) and on an empty scan.
"$venv/bin/python" - "$results_dir/results.json" "$status" <<'PY'
import json
import sys

path, status = sys.argv[1], int(sys.argv[2])
with open(path, encoding="utf-8") as handle:
    report = json.load(handle)
reports = report if isinstance(report, list) else [report]
summary = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
for item in reports:
    for key in summary:
        summary[key] += int(item.get("summary", {}).get(key, 0))
print(
    "checkov summary: passed={passed} failed={failed} skipped={skipped} "
    "parsing_errors={parsing_errors} resources={resource_count}".format(**summary)
)
problems = []
if summary["failed"]:
    problems.append(f"{summary['failed']} failed check(s)")
if summary["parsing_errors"]:
    problems.append(f"{summary['parsing_errors']} file(s) checkov could not parse")
if not summary["resource_count"] or not summary["passed"]:
    problems.append("nothing was scanned")
if status and not problems:
    problems.append(f"checkov exited with status {status}")
if problems:
    print("checkov.sh: FAILED: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
PY
