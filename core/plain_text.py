"""One check for text that people type and the database stores."""

from __future__ import annotations

from typing import Any


def plain_text(value: Any) -> Any:
    """No NUL or other control character (PostgreSQL refuses NUL; terminals obey the others),
    no lone surrogate (it cannot be stored as UTF-8). Raises ValueError, as validators do."""
    if isinstance(value, str) and any(
            (ord(char) < 32 and char not in "\t\n\r") or 0xD800 <= ord(char) <= 0xDFFF
            for char in value):
        raise ValueError("contains a control character or an invalid character")
    return value
