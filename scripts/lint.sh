#!/usr/bin/env bash
# The single source of static checks (CI and pre-commit call this).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(banso jobs cs bot core retrieval)
.venv/bin/ruff check "${packages[@]}" tests bench
.venv/bin/mypy "${packages[@]}" tests bench
.venv/bin/lint-imports  # the layers of docs/architecture.md (contracts in pyproject.toml)
.venv/bin/banso knowledge lint knowledge
