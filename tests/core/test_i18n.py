"""One catalog, one `t()`: every key in both languages, the same placeholders, plural forms."""

from __future__ import annotations

import string

import pytest

from core.i18n import LANGS, as_lang, catalog, t


def _placeholders(entry: str | dict[str, str]) -> set[str]:
    texts = [entry] if isinstance(entry, str) else [v for k, v in entry.items() if k != "by"]
    return {field.split(".")[0].split("[")[0] for text in texts
            for _, field, _, _ in string.Formatter().parse(text) if field}


def test_both_languages_have_the_same_keys() -> None:
    ja, en = catalog("ja"), catalog("en")
    assert sorted(set(ja) ^ set(en)) == []


def test_every_text_takes_the_same_values_in_both_languages() -> None:
    ja, en = catalog("ja"), catalog("en")
    differ = {key: (_placeholders(ja[key]), _placeholders(en[key])) for key in ja
              if _placeholders(ja[key]) != _placeholders(en[key])}
    assert differ == {}  # (an English singular may drop the number: forms count together)


def test_plural_forms_follow_the_count() -> None:
    assert t("alerts.days", "en", n=1) == "1 day"
    assert t("alerts.days", "en", n=30) == "30 days"
    assert t("alerts.days", "ja", n=1) == "1日"
    one_day = t("rules.risk.no_login", "en", days=1, limit=14)
    assert one_day == "Last login 1 day ago (limit 14 days)"
    assert t("rules.risk.no_login", "en", days=21, limit=14).startswith("Last login 21 days ago")


def test_every_plural_entry_has_both_forms_and_a_count_it_names() -> None:
    for lang in LANGS:
        for key, entry in catalog(lang).items():
            if isinstance(entry, dict):
                assert {"one", "other"} <= set(entry), key
                assert entry.get("by", "n") in _placeholders(entry["other"]), key


@pytest.mark.parametrize(("value", "lang"), [
    ("en-US", "en"), ("EN", "en"), ("ja-JP", "ja"), ("fr-FR", "ja"), (None, "ja"), ("", "ja"),
])
def test_an_unknown_language_reads_as_japanese(value: str | None, lang: str) -> None:
    assert as_lang(value) == lang


def test_an_unknown_key_is_an_error_not_a_blank() -> None:
    with pytest.raises(KeyError):
        t("alerts.no_such_text", "en")
