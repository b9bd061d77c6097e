#!/usr/bin/env bash
# Sets up and runs every check: lint, the full test suite on SQLite, then the database part of
# the suite again on the real PostgreSQL server (BANSO_TEST_POSTGRES_URL, default local trust).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export OMP_WAIT_POLICY=PASSIVE HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
bash scripts/ensure_services.sh
bash scripts/lint.sh
.venv/bin/pytest -q "$@"
pg_url="${BANSO_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
echo "--- database tests again on PostgreSQL ($pg_url)"
BANSO_TEST_DATABASE_URL="$pg_url" BANSO_DB_TESTS_ONLY=1 .venv/bin/pytest -q "$@"
