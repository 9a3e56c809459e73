#!/usr/bin/env bash
# The Schemathesis CLI (`st`), for the OpenAPI fuzzing of tests/fuzz/ (`make fuzz`).
#
# Schemathesis lives in its own virtual environment (.venv-schemathesis, created on first run from
# requirements-schemathesis.txt) so that its pytest plugins stay out of the project's test sessions.
# Every argument is passed to `st`; the fuzz test calls it once per mode.
#
# Usage: scripts/schemathesis.sh --config-file tests/fuzz/schemathesis.toml run URL [OPTIONS]
#        scripts/schemathesis.sh --version
# Env:   PYTHON=/path/to/python        interpreter for the venv (default: python3.11, else python3)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

venv="$repo_root/.venv-schemathesis"
requirements="$repo_root/requirements-schemathesis.txt"
stamp="$venv/.requirements-schemathesis.txt"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if [[ ! -x "$venv/bin/st" ]] || ! cmp -s "$requirements" "$stamp"; then
  echo "schemathesis.sh: installing schemathesis into $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

exec "$venv/bin/st" "$@"
