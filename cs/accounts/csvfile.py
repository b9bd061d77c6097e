"""CSV file -> import rows with their line numbers. Only conversion: the importer validates."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, not UTF-8, wrong header)."""


@dataclass(frozen=True)
class CsvRows:
    rows: list[dict[str, str]]
    lines: list[int]  # line number of each row in the file (the header is line 1)


def read_csv(path: Path, model: type[BaseModel]) -> CsvRows:
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    _check_header(path, header, model)
    rows, lines = [], []
    start = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            values = {key: cell.strip() for key, cell in zip(header, cells, strict=False)}
            if len(cells) > len(header):
                values["extra_cells"] = ",".join(cells[len(header):])
            rows.append(values)
            lines.append(start)
        start = reader.line_num + 1  # a quoted cell may span lines: count from the record's end
    return CsvRows(rows, lines)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path}: not UTF-8 (byte {exc.start}); in Excel save as 'CSV UTF-8'"
        ) from None


def _check_header(path: Path, header: list[str], model: type[BaseModel]) -> None:
    if not header:
        raise ImportFileError(f"{path}: empty file: the first line must name the columns")
    known = set(model.model_fields)
    unknown = [name for name in header if name not in known]
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    missing = [name for name in required if name not in header]
    problems = []
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        problems.append("a column name appears twice")
    if problems:
        raise ImportFileError(
            f"{path}: line 1: {'; '.join(problems)} (columns: {', '.join(model.model_fields)})"
        )
