"""CSV file -> import rows with their line numbers. Only conversion: the importer validates.

Files come as Japanese teams export them: Excel's default Japanese CSV is CP932 (Shift_JIS),
its "CSV UTF-8" starts with a BOM. Both are read without being told; another encoding can be
named (`--encoding`). A byte that decodes in none is reported by its line, not its offset.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from cs.accounts.schemas import RowError

if TYPE_CHECKING:
    from _csv import Reader

# Tried in this order: valid UTF-8 is almost never valid CP932 text by accident, the reverse is
# common (ASCII), so UTF-8 first. CP932 is Microsoft's Shift_JIS, a superset of it.
_GUESSES = ("utf-8-sig", "cp932")


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, undecodable, wrong header)."""


@dataclass(frozen=True)
class CsvRows:
    rows: list[dict[str, str]]
    lines: list[int]  # line number of each row in the file (the header is line 1)
    # Lines that are no row at all (more cells than the header): reported with the row errors.
    errors: list[RowError] = field(default_factory=list)


def read_csv(path: Path, model: type[BaseModel], encoding: str | None = None) -> CsvRows:
    reader = csv.reader(io.StringIO(_read_text(path, encoding), newline=""))
    try:
        return _read_rows(path, reader, model)
    except csv.Error as exc:  # e.g. a cell over the csv module's 128 KiB field limit
        raise ImportFileError(f"{path}: line {reader.line_num}: {exc}") from None


def _read_rows(path: Path, reader: Reader, model: type[BaseModel]) -> CsvRows:
    header = [name.strip().lower() for name in next(reader, [])]
    _check_header(path, header, model)
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    errors: list[RowError] = []
    start = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            if any(cell.strip() for cell in cells[len(header):]):
                errors.append(RowError(len(rows) + len(errors), start,
                                       f"{len(cells)} cells, header has {len(header)} "
                                       "(a value with a comma needs quotes)"))
            else:
                rows.append({key: cell.strip() for key, cell in zip(header, cells,
                                                                    strict=False)})
                lines.append(start)
        start = reader.line_num + 1  # a quoted cell may span lines: count from the record's end
    return CsvRows(rows, lines, errors)


def _read_text(path: Path, encoding: str | None) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read: {exc.strerror}") from None
    if encoding is not None:
        return _decode_as(path, data, encoding)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return _decode_as(path, data, "utf-16")
    failures: list[UnicodeDecodeError] = []
    for guess in _GUESSES:
        try:
            return data.decode(guess)
        except UnicodeDecodeError as exc:
            failures.append(exc)
    # The encoding that got further is the one the file was most likely meant to be in.
    worst = max(failures, key=lambda exc: exc.start)
    raise ImportFileError(
        f"{path}: line {_line_at(data, worst.start)}: byte 0x{data[worst.start]:02X} is "
        "neither UTF-8 nor Shift_JIS (CP932); in Excel save as 'CSV UTF-8', "
        "or name the encoding with --encoding"
    ) from None


def _decode_as(path: Path, data: bytes, encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ImportFileError(f"unknown encoding {encoding!r} (e.g. utf-8, cp932)") from None
    try:
        return data.decode(name).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path}: line {_line_at(data, exc.start)}: byte 0x{data[exc.start]:02X} is not "
            f"{encoding}"
        ) from None


def _line_at(data: bytes, offset: int) -> int:
    # A newline byte never occurs inside a UTF-8 or Shift_JIS character, so counting is exact.
    return data.count(b"\n", 0, offset) + 1


def _check_header(path: Path, header: list[str], model: type[BaseModel]) -> None:
    if not header:
        raise ImportFileError(f"{path}: empty file: the first line must name the columns")
    known = set(model.model_fields)
    unnamed = [str(number) for number, name in enumerate(header, 1) if not name]
    unknown = [name if name.isprintable() else repr(name)
               for name in header if name and name not in known]
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    missing = [name for name in required if name not in header]
    twice = sorted({name for name in header if name and header.count(name) > 1})
    problems = []
    if unnamed:
        problems.append(f"column(s) {', '.join(unnamed)} have no name")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if twice:
        problems.append(f"column(s) {', '.join(twice)} appear more than once")
    if problems:
        raise ImportFileError(
            f"{path}: line 1: {'; '.join(problems)} (columns: {', '.join(model.model_fields)})"
        )
