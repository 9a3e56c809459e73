#!/usr/bin/env bash
# The browser tests drive the system's Chromium (Playwright cannot download browsers here).
# Installs Debian's chromium package when it is missing and we may; otherwise says what to do.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Chromium for the browser tests (Debian package chromium)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
  exit 0
fi
echo "error: the browser tests need Chromium. Install it, e.g. 'sudo apt-get install chromium'." >&2
exit 1
