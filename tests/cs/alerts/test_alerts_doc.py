"""docs/alerts.md shows one example card per alert kind exactly as the code renders it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from cs.alerts.models import AlertKind
from tests.slack_stub import check_blocks

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "alert_examples.py"


def _examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("alert_examples", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_doc_shows_the_cards_the_renderer_makes() -> None:
    examples = _examples()
    doc = examples.DOC.read_text(encoding="utf-8")
    found = re.search(re.escape(examples.BEGIN) + r"\n(.*?)\n" + re.escape(examples.END), doc,
                      re.S)

    assert found is not None, "docs/alerts.md lost its example markers"
    assert found.group(1) == examples.examples_markdown(), (
        "docs/alerts.md is out of date: run `.venv/bin/python scripts/alert_examples.py --write`")


def test_there_is_one_example_per_alert_kind_and_each_is_a_valid_card() -> None:
    examples = _examples()
    doc = examples.DOC.read_text(encoding="utf-8")

    for kind in AlertKind:
        assert doc.count(f"**`{kind.value}`**") == 1
        for lang in ("ja", "en"):
            assert check_blocks(examples.example_card(kind, lang)) == []
