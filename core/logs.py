"""Structured logging: JSON lines in production, readable lines on a terminal.

Every line written while an HTTP request is handled carries that request's id (a contextvar,
so threadpool routes and nested calls get it without passing it around). Callers add fields with
`extra={...}`; never log message bodies or secrets at INFO (see docs/operations.md).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from core.settings import LogFormat, Settings

request_id_var: ContextVar[str | None] = ContextVar("banso_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in vars(record).items()
        if k not in _STANDARD and k != "color_message" and not k.startswith("_")
    }


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(_fields(record))
        if line.get("request_id") is None:
            line.pop("request_id", None)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        rid = fields.pop("request_id", None)
        time = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        text = f"{time} {record.levelname:<7} {record.name}"
        text += f" [{rid}]" if rid else ""
        text += f" {record.getMessage()}" + (f"  {extra}" if extra else "")
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def use_json(log_format: LogFormat, stream: IO[str]) -> bool:
    if log_format is LogFormat.AUTO:
        return not (hasattr(stream, "isatty") and stream.isatty())
    return log_format is LogFormat.JSON


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Route all logging (ours, uvicorn's, bolt's, APScheduler's) through one handler."""
    out = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(out)
    json_lines = use_json(settings.log_format, out)
    handler.setFormatter(JsonFormatter() if json_lines else ConsoleFormatter())
    handler.addFilter(RequestIdFilter())
    # Also on the handler: some libraries (bm25s) set their own loggers to DEBUG.
    handler.setLevel(settings.log_level)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_banso", False):
            root.removeHandler(old)
    handler._banso = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Our middleware writes one access line per request (with the request id); uvicorn's would
    # repeat it without the id.
    logging.getLogger("uvicorn.access").disabled = True
    # APScheduler logs every job it adds at INFO (a dozen lines per start); the alerts
    # scheduler logs one line with the job list instead.
    if settings.log_level != "DEBUG":
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler
