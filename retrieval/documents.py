"""Knowledge files -> `Entry`: one Markdown file with YAML front matter per entry.

Layout: `<root>/faq/`, `<root>/cases/`, `<root>/playbooks/` (sub-folders allowed); the top folder
gives the kind. `drafts/` folders, `README.md` and dot-files are skipped.

Front matter keys: `id`, `title`, `visibility` (required); `aliases`, `phase`, `tags`, `lang`,
`owner`, `updated`, `links` (optional). The body below the closing `---` is the answer.

`load_knowledge` never raises on a bad file: the file is skipped, its problems are logged and
returned in the report, and the rest of the base loads.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from retrieval.models import Entry, Kind, Visibility

logger = logging.getLogger(__name__)

KIND_FOLDERS: dict[str, Kind] = {"faq": Kind.FAQ, "cases": Kind.CASE, "playbooks": Kind.PLAYBOOK}
SKIPPED_FOLDERS = frozenset({"drafts"})
LANGS = ("ja", "en")
PHASES = ("onboarding", "adoption", "renewal", "expansion")
REQUIRED_KEYS = ("id", "title", "visibility")
# Fail closed: without a readable `visibility` an entry is never shown to the public.
FAIL_CLOSED = ("until this is fixed the entry is kept off public surfaces (community channels, "
               "the web chat); staff still get its last good version")
OPTIONAL_KEYS = ("aliases", "phase", "tags", "lang", "owner", "updated", "links")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_DELIMITER = "---"
_FRONT_MATTER_FIRST_LINE = 2  # file line of the first YAML line (line 1 is the opening ---)
# libyaml parses several times faster and reports the same marks; pure Python is the fallback.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class KnowledgeError(Exception):
    """A problem in one knowledge file, at a 1-based line (0: the path itself)."""

    path: str
    line: int
    message: str
    warning: bool = False  # a warning is reported by lint but never stops a file from loading

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {'warning: ' if self.warning else ''}{self.message}"


@dataclass
class LoadReport:
    entries: list[Entry] = field(default_factory=list)
    errors: list[KnowledgeError] = field(default_factory=list)
    warnings: list[KnowledgeError] = field(default_factory=list)


@dataclass
class FileCheck:
    """Everything known about one file: the entry when it is valid, and every problem found."""

    path: str
    entry: Entry | None
    problems: list[KnowledgeError] = field(default_factory=list)
    id_line: int = 1

    @property
    def errors(self) -> list[KnowledgeError]:
        return [p for p in self.problems if not p.warning]


class _Bad(Exception):
    """A field value is wrong; `item` points at the offending list item when there is one."""

    def __init__(self, message: str, item: int | None = None) -> None:
        super().__init__(message)
        self.item = item


# --- public API ------------------------------------------------------------------------------


def load_knowledge(root: Path) -> LoadReport:
    """Parse every knowledge file under `root`; broken files are reported and skipped."""
    report = LoadReport()
    if not root.is_dir():
        report.errors.append(KnowledgeError(str(root), 0, "knowledge folder not found"))
    files = [(path, KIND_FOLDERS[path.relative_to(root).parts[0]])
             for path in knowledge_files(root)]
    for check in check_files(files, root):
        report.errors.extend(check.errors)
        report.warnings.extend(p for p in check.problems if p.warning)
        if check.entry is not None:
            report.entries.append(check.entry)
    for problem in report.errors:
        logger.error("%s", problem)
    for problem in report.warnings:
        logger.warning("%s", problem)
    return report


def parse_file(path: Path, root: Path) -> Entry:
    """Parse one file under `root`; raise the first `KnowledgeError` found."""
    kind = kind_of(path, root)
    if kind is None:
        raise KnowledgeError(str(path), 0, "not inside faq/, cases/ or playbooks/")
    check = check_file(path, kind, root)
    if check.entry is None:
        raise check.errors[0]
    return check.entry


def knowledge_files(root: Path) -> list[Path]:
    """The files `load_knowledge` reads, sorted (so the first of two duplicate ids is stable)."""
    found: list[Path] = []
    for folder in KIND_FOLDERS:
        base = root / folder
        if base.is_dir():
            found.extend(p for p in base.rglob("*.md") if is_knowledge_file(p, root))
    return sorted(found)


def kind_of(path: Path, root: Path) -> Kind | None:
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    return KIND_FOLDERS.get(parts[0]) if len(parts) > 1 else None


def check_files(files: Iterable[tuple[Path, Kind]], root: Path | None) -> list[FileCheck]:
    """Check each file, then reject later files whose id an earlier file already uses."""
    checks: list[FileCheck] = []
    owners: dict[str, str] = {}
    for path, kind in files:
        check = check_file(path, kind, root)
        entry = check.entry
        if entry is not None and entry.id in owners:
            check.problems.append(KnowledgeError(
                check.path, check.id_line, f"duplicate id '{entry.id}' (already used by "
                f"{owners[entry.id]})"))
            check.entry = None
        elif entry is not None:
            owners[entry.id] = check.path
        checks.append(check)
    return checks


def check_file(path: Path, kind: Kind, root: Path | None = None) -> FileCheck:
    """Every problem in one file; `entry` is set only when there is no error."""
    check = FileCheck(path=str(path), entry=None)
    try:
        text = _read_text(path)
        front, body, close_line = _split_front_matter(text)
        fields = _parse_front_matter(front, check)
    except _FileProblem as problem:
        check.problems.append(KnowledgeError(str(path), problem.line, str(problem)))
        return check
    values = _validate_fields(fields, check)
    if not body.strip():
        check.problems.append(KnowledgeError(
            str(path), close_line, "empty body: write the answer below the closing ---"))
    if not check.errors:
        rel = path.relative_to(root).as_posix() if root is not None else path.name
        check.entry = _build_entry(values, body.strip(), kind, rel)
    check.problems.sort(key=lambda problem: problem.line)
    return check


def render_entry(entry: Entry) -> str:
    """An entry as a knowledge file (what `parse_file` reads back), e.g. for FAQ drafts."""
    meta: dict[str, Any] = {
        "id": entry.id, "title": entry.title, "visibility": str(entry.visibility),
    }
    optional: dict[str, Any] = {
        "aliases": list(entry.aliases), "phase": entry.phase, "tags": list(entry.tags),
        "lang": entry.lang, "owner": entry.owner, "updated": entry.updated,
        "links": list(entry.links),
    }
    meta.update({key: value for key, value in optional.items() if value not in (None, [])})
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"{_DELIMITER}\n{front}{_DELIMITER}\n\n{entry.body.strip()}\n"


# --- reading and splitting -------------------------------------------------------------------


class _FileProblem(Exception):
    """The file cannot be read as a knowledge file at all."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


def is_knowledge_file(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return (
        not any(part in SKIPPED_FOLDERS or part.startswith(".") for part in parts)
        and path.name.lower() != "readme.md"
        and path.is_file()
    )


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _FileProblem(f"cannot read file: {exc.strerror}", 0) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _FileProblem(f"not UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                           line) from None


def _split_front_matter(text: str) -> tuple[str, str, int]:
    """(front matter YAML, body, file line of the closing ---)."""
    lines = text.splitlines()
    if not lines or lines[0].rstrip() != _DELIMITER:
        raise _FileProblem("no front matter: the file must start with a '---' line, then YAML "
                           "keys (id, title, visibility, ...), then '---'")
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() == _DELIMITER:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 1
    raise _FileProblem("unterminated front matter: no closing '---' line")


# --- front matter ----------------------------------------------------------------------------


@dataclass
class _Field:
    value: Any
    line: int
    node: yaml.Node


def _parse_front_matter(front: str, check: FileCheck) -> dict[str, _Field]:
    loader = _Loader(front)
    try:
        node = loader.get_single_node()
        if not isinstance(node, yaml.MappingNode):
            raise _FileProblem("front matter must be 'key: value' lines (a YAML mapping)",
                               _line(node) if node is not None else 1)
        return _construct_fields(loader, node, check)
    except yaml.YAMLError as exc:
        raise _FileProblem(f"bad YAML: {_yaml_message(exc)}", _yaml_line(exc)) from None
    finally:
        loader.dispose()


def _construct_fields(
    loader: Any, node: yaml.MappingNode, check: FileCheck
) -> dict[str, _Field]:
    fields: dict[str, _Field] = {}
    for key_node, value_node in node.value:
        key, line = key_node.value, _line(key_node)
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(key, str):
            check.problems.append(KnowledgeError(check.path, line, "keys must be plain words"))
            continue
        if key in fields:
            check.problems.append(KnowledgeError(
                check.path, line, f"duplicate key '{key}' (first on line {fields[key].line})"))
            continue
        try:
            value = loader.construct_object(value_node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            # PyYAML raises a bare ValueError for an impossible date such as 2026-02-30.
            shown = f" {value_node.value!r}" if isinstance(value_node, yaml.ScalarNode) else ""
            message = f"{key}: bad value{shown}: {exc}"
            check.problems.append(KnowledgeError(check.path, line, message))
            continue
        fields[key] = _Field(value, line, value_node)
    return fields


def _line(node: yaml.Node) -> int:
    return _FRONT_MATTER_FIRST_LINE + node.start_mark.line


def _yaml_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if "end of stream" in str(getattr(exc, "problem", "")) and getattr(exc, "context_mark", None):
        # An unclosed quote or bracket is found at the end of the front matter; the line that
        # opened it is the one to fix.
        mark = exc.context_mark  # type: ignore[attr-defined]
    return _FRONT_MATTER_FIRST_LINE + mark.line if mark is not None else 1


def _yaml_message(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(part for part in (exc.context, exc.problem) if part)
    return str(exc).splitlines()[0]


# --- field validation ------------------------------------------------------------------------


def _validate_fields(fields: dict[str, _Field], check: FileCheck) -> dict[str, Any]:
    values: dict[str, Any] = {}
    known = REQUIRED_KEYS + OPTIONAL_KEYS
    for key, item in fields.items():
        if key not in known:
            check.problems.append(_unknown_key(check.path, key, item.line, known))
            continue
        try:
            values[key] = _VALIDATORS[key](item.value)
        except _Bad as bad:
            line = _item_line(item, bad.item)
            check.problems.append(KnowledgeError(check.path, line, f"{key}: {bad}"))
    for key in REQUIRED_KEYS:
        if key not in fields:
            hint = f": {FAIL_CLOSED}" if key == "visibility" else ""
            check.problems.append(KnowledgeError(check.path, 1, f"missing '{key}'{hint}"))
    if "id" in fields:
        check.id_line = fields["id"].line
    return values


def _unknown_key(path: str, key: str, line: int, known: tuple[str, ...]) -> KnowledgeError:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    if close == ["visibility"]:
        return KnowledgeError(path, line, f"unknown key '{key}' (did you mean 'visibility'?): "
                              f"{FAIL_CLOSED}")
    if close:
        # A misspelt key would otherwise be ignored silently; `visiblity: internal` must never
        # load as a public entry, so a near-miss is an error that keeps the file out.
        return KnowledgeError(path, line, f"unknown key '{key}' (did you mean '{close[0]}'?)")
    return KnowledgeError(path, line, f"unknown key '{key}' is ignored (known keys: "
                          f"{', '.join(known)})", warning=True)


def _item_line(item: _Field, index: int | None) -> int:
    if index is not None and isinstance(item.node, yaml.SequenceNode):
        return _line(item.node.value[index])
    return item.line


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad("must be non-empty text" if value in (None, "") else
                   f"must be text, got {value!r} (put it in quotes)")
    return value.strip()


def _id(value: Any) -> str:
    text = _text(value)
    if not ID_PATTERN.fullmatch(text):
        raise _Bad(f"'{text}' is not a valid id: use lowercase letters, digits, '-' and '_'")
    return text


def _choice(allowed: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in allowed:
            raise _Bad(f"unknown value {value!r}: use one of {', '.join(allowed)}")
        return str(value)
    return check


def _optional_choice(allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    choice = _choice(allowed)
    return lambda value: None if value is None else choice(value)


def _text_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _Bad("must be a list, e.g. [a, b] or one '- item' per line")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _Bad(f"{item!r} is not text (each item must be non-empty text)", index)
    return tuple(item.strip() for item in value)


def _links(value: Any) -> tuple[str, ...]:
    links = _text_list(value)
    for index, link in enumerate(links):
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _Bad(f"'{link}' is not an http(s) URL", index)
    return links


def _updated(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _Bad(f"{value!r} is not a date: write it as YYYY-MM-DD") from None


def _owner(value: Any) -> str | None:
    return None if value is None else _text(value)


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "id": _id,
    "title": _text,
    "visibility": _choice(tuple(v.value for v in Visibility)),
    "aliases": _text_list,
    "phase": _optional_choice(PHASES),
    "tags": _text_list,
    "lang": _optional_choice(LANGS),
    "owner": _owner,
    "updated": _updated,
    "links": _links,
}


def _build_entry(values: dict[str, Any], body: str, kind: Kind, rel: str) -> Entry:
    title: str = values["title"]
    lang = values.get("lang") or ("ja" if _JAPANESE.search(title) else "en")
    return Entry(
        id=values["id"],
        title=title,
        body=body,
        kind=kind,
        visibility=Visibility(values["visibility"]),
        aliases=values.get("aliases", ()),
        phase=values.get("phase"),
        tags=values.get("tags", ()),
        lang=lang,
        owner=values.get("owner"),
        updated=values.get("updated"),
        links=values.get("links", ()),
        path=rel,
    )
