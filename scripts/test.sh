#!/usr/bin/env bash
# Sets up and runs every check: lint, the full test suite on SQLite, then the database part of
# the suite again on the real PostgreSQL server named by BANSO_TEST_DATABASE_URL (default: the
# local server with trust auth). Each PostgreSQL run creates its own database and drops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export OMP_WAIT_POLICY=PASSIVE HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
bash scripts/ensure_services.sh
bash scripts/lint.sh
pg_url="${BANSO_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
BANSO_TEST_DATABASE_URL="" .venv/bin/pytest -q "$@"
echo "--- database tests again on PostgreSQL ($pg_url)"
BANSO_TEST_DATABASE_URL="$pg_url" BANSO_DB_TESTS_ONLY=1 .venv/bin/pytest -q "$@"
