#!/usr/bin/env bash
# Creates .venv and installs Banso (and with --dev its test tools). Idempotent; works offline
# against the machine's package registries. torch goes first so pip keeps the CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
[[ "${1:-}" == "--dev" ]] && extras="[dev]"
python3 -m venv .venv
pip=".venv/bin/pip"
$pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import torch" 2>/dev/null || $pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
$pip install -q -e ".${extras}" 2>&1 | grep -v -e "^WARNING: Location" -e "^ *$" || true
.venv/bin/python -c "import banso, retrieval, bot, jobs" || { echo "setup failed" >&2; exit 1; }
