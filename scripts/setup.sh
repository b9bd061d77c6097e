#!/usr/bin/env bash
# Creates .venv and installs Banso (and with --dev its test tools). Idempotent; works offline
# against the machine's package registries. torch goes first so pip keeps the CPU build.
# A stamp in .venv (hash of pyproject.toml and this script, and the extras) skips the whole
# install when nothing changed: the package is editable, so code edits need no reinstall.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
[[ "${1:-}" == "--dev" ]] && extras="[dev]"
stamp=".venv/.banso-install"
wanted="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" ]] && .venv/bin/python -c "import banso" 2>/dev/null; then
  read -r have have_extras < "$stamp" || true
  # A [dev] install also serves a plain one; a plain one does not serve --dev.
  if [[ "$have" == "$wanted" && ( -z "$extras" || "${have_extras:-}" == "[dev]" ) ]]; then
    echo "setup: .venv is up to date (pyproject.toml unchanged); skipping installation"
    exit 0
  fi
fi
python3 -m venv .venv
pip=".venv/bin/pip"
$pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import torch" 2>/dev/null || $pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
$pip install -q -e ".${extras}" 2>&1 | grep -v -e "^WARNING: Location" -e "^ *$" || true
.venv/bin/python -c "import banso, retrieval, bot, jobs" || { echo "setup failed" >&2; exit 1; }
echo "$wanted ${extras}" > "$stamp"
