"""Docs and code comments name files and modules that exist: a moved module or a renamed test
must not leave a reference behind (README, docs/, knowledge/README.md, every source file)."""

from __future__ import annotations

import importlib
import re

from tests.conftest import REPO

ROOMS = ("banso", "jobs", "cs", "bot", "core", "retrieval")
DOCS = [REPO / "README.md", REPO / "knowledge" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SOURCES = [path for folder in (*ROOMS, "bench", "tests", "scripts")
           for pattern in ("*.py", "*.sh") for path in sorted((REPO / folder).rglob(pattern))]
PATH = re.compile(r"(?<![\w./-])((?:banso|jobs|cs|bot|core|retrieval|tests|bench|docs|scripts|"
                  r"knowledge)/[\w/.-]*\.(?:py|md|yaml|sh|toml|html|jsonl|json))(?![\w])")
FOLDER = re.compile(r"`((?:banso|jobs|cs|bot|core|retrieval|tests|bench|docs|knowledge)/[\w/-]*)`")
MODULE = re.compile(r"`((?:banso|jobs|cs|bot|core|retrieval)(?:\.[A-Za-z_]\w*)+)")
# Dotted names in docs that are not modules: logger names and keys of the rules file.
NOT_MODULES = {"banso.http", "banso.bolt", "jobs.lang", "jobs.schedules",
               "jobs.onboarding_checkins", "jobs.deliver_every_seconds", "banso.toml"}


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_file_path_named_in_docs_and_sources_exists() -> None:
    missing = {(str(f.relative_to(REPO)), m) for f in DOCS + SOURCES
               for m in PATH.findall(f.read_text(encoding="utf-8")) if not (REPO / m).exists()}
    assert sorted(missing) == []


def test_every_folder_named_in_the_docs_exists() -> None:
    missing = {(str(f.relative_to(REPO)), m) for f in DOCS
               for m in FOLDER.findall(f.read_text(encoding="utf-8"))
               if "." not in m.rsplit("/", 1)[-1] and not (REPO / m).is_dir()}
    assert sorted(missing) == []


def test_every_module_named_in_the_docs_exists() -> None:
    missing = {(str(f.relative_to(REPO)), m) for f in DOCS
               for m in MODULE.findall(f.read_text(encoding="utf-8"))
               if m not in NOT_MODULES and not m.endswith(".com") and not _resolves(m)}
    assert sorted(missing) == []
