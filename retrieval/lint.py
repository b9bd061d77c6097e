"""`banso knowledge lint`: every problem in the knowledge files as `file:line: message`.

The checks are the loader's own (`retrieval.documents.check_file`), so a file that lints clean
is exactly a file that loads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.documents import (
    KIND_FOLDERS,
    KnowledgeError,
    check_files,
    is_knowledge_file,
    knowledge_files,
)
from retrieval.models import Kind


@dataclass
class LintReport:
    files: int = 0
    problems: list[KnowledgeError] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)  # paths asked for that do not exist

    @property
    def errors(self) -> list[KnowledgeError]:
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self) -> list[KnowledgeError]:
        return [p for p in self.problems if p.warning]

    def summary(self) -> str:
        if self.missing:
            return "no such path: " + ", ".join(map(str, self.missing))
        if self.errors:
            bad = len({p.path for p in self.errors})
            return f"{_count(len(self.errors), 'error')} in {bad} of {_count(self.files, 'file')}"
        warned = f" ({_count(len(self.warnings), 'warning')})" if self.warnings else ""
        return f"{_count(self.files, 'file')} OK{warned}"


def lint_paths(paths: Iterable[Path]) -> list[KnowledgeError]:
    """Every problem (errors and warnings) in the files under `paths`, in file order."""
    report = lint(paths)
    return [KnowledgeError(str(p), 0, "no such path") for p in report.missing] + report.problems


def lint(paths: Iterable[Path]) -> LintReport:
    report = LintReport()
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(_files_under(path))
        elif path.is_file():
            files.append(path)
        else:
            report.missing.append(path)
    files = _unique(files)
    report.files = len(files)
    for check in check_files([(path, _kind_for(path)) for path in files], root=None):
        report.problems.extend(check.problems)
    return report


def _files_under(folder: Path) -> list[Path]:
    if any((folder / name).is_dir() for name in KIND_FOLDERS):
        return knowledge_files(folder)
    # Any other folder (one kind folder, or var/drafts before a curator files the drafts).
    return sorted(p for p in folder.rglob("*.md") if is_knowledge_file(p, folder))


def _kind_for(path: Path) -> Kind:
    for part in reversed(path.absolute().parent.parts):
        if part in KIND_FOLDERS:
            return KIND_FOLDERS[part]
    return Kind.FAQ  # outside the base, e.g. a draft: drafts are FAQ drafts


def _unique(files: list[Path]) -> list[Path]:
    seen: set[Path] = set()
    unique = []
    for path in files:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
