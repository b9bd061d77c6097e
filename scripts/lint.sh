#!/usr/bin/env bash
# The single source of static checks (CI and pre-commit call this).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check banso bot retrieval jobs tests bench
.venv/bin/mypy banso bot retrieval jobs tests
.venv/bin/banso knowledge lint knowledge
