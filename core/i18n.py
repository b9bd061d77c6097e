"""Every word Banso shows people, in Japanese and English: one catalog, one `t()`.

The catalogs are `core/locales/{ja,en}.yaml` (room -> key -> text with `str.format`
placeholders); a key is "room.key", e.g. `t("alerts.kind.at_risk", "en")`. Both catalogs hold
the same keys and placeholders (tests/core/test_i18n.py), so a lookup never falls back to
another language's text. A language Banso does not speak is read as `DEFAULT_LANG` (Japanese,
the product's first language): `as_lang` is that one rule.

A text that depends on a count is a mapping of plural forms, `{one: "{n} day", other: "{n}
days"}`; the form is chosen by the value named `n` (or by the one named in its `by:` key).
Japanese needs no forms and writes a plain string.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "ja"
LOCALES = Path(__file__).with_name("locales")

Entry = str | dict[str, str]


def as_lang(value: str | None) -> Lang:
    """A language code or Slack locale ("en-US", "ja-JP", "EN") as one Banso speaks."""
    code = (value or "").strip().lower()[:2]
    return code if code in LANGS else DEFAULT_LANG


def t(key: str, lang: Lang, **values: object) -> str:
    """The text `key` ("room.key") in `lang`, with `values` filled in; KeyError if unknown."""
    entry = catalog(lang)[key]
    template = entry if isinstance(entry, str) else _plural_form(entry, values)
    return template.format(**values) if values else template


def _plural_form(forms: dict[str, str], values: dict[str, object]) -> str:
    count = values[forms.get("by", "n")]
    return forms["one"] if count == 1 else forms["other"]


@cache
def catalog(lang: Lang) -> dict[str, Entry]:
    """The flat catalog of one language ("room.key" -> text or plural forms), read once."""
    data = yaml.safe_load((LOCALES / f"{lang}.yaml").read_text(encoding="utf-8"))
    return {f"{room}.{key}": _entry(value) for room, texts in data.items()
            for key, value in texts.items()}


def _entry(value: Any) -> Entry:
    if isinstance(value, dict):
        return {str(form): str(text) for form, text in value.items()}
    return str(value)
