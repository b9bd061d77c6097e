#!/usr/bin/env bash
# The main job on embedded defaults: SQLite in ./var, the bundled embedding model, the demo
# knowledge base and demo customers. Slack is optional (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/banso serve --demo "$@"
