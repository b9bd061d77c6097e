from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from retrieval.documents import KnowledgeError, load_knowledge, parse_file, render_entry
from retrieval.models import Kind, Visibility

FULL = """\
---
id: renewal-story
title: 更新時にID数を見直した事例
aliases:
  - 更新の事例
  - ID数を減らした例
visibility: internal
phase: renewal
tags: [事例, 更新]
lang: ja
owner: cs
updated: 2026-08-30
links:
  - https://help.example.com/a
  - http://help.example.com/b
---

**業種**: 小売

結果: 20% 削減
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def faq(entry_id: str, title: str = "Question?", extra: str = "") -> str:
    return f"---\nid: {entry_id}\ntitle: {title}\nvisibility: public\n{extra}---\nAnswer.\n"


def test_every_field_is_parsed_and_kind_comes_from_the_folder(tmp_path: Path) -> None:
    path = write(tmp_path, "cases/renewal.md", FULL)

    entry = parse_file(path, tmp_path)

    assert entry.id == "renewal-story"
    assert entry.title == "更新時にID数を見直した事例"
    assert entry.kind is Kind.CASE
    assert entry.visibility is Visibility.INTERNAL
    assert entry.aliases == ("更新の事例", "ID数を減らした例")
    assert entry.phase == "renewal"
    assert entry.tags == ("事例", "更新")
    assert entry.lang == "ja"
    assert entry.owner == "cs"
    assert entry.updated == date(2026, 8, 30)
    assert entry.links == ("https://help.example.com/a", "http://help.example.com/b")
    assert entry.body == "**業種**: 小売\n\n結果: 20% 削減"
    assert entry.path == "cases/renewal.md"


def test_top_folder_decides_kind_even_in_sub_folders(tmp_path: Path) -> None:
    write(tmp_path, "faq/billing/invoice.md", faq("invoice"))
    write(tmp_path, "playbooks/renewal.md", faq("renewal-plan"))
    write(tmp_path, "cases/retail.md", faq("retail"))

    kinds = {e.id: e.kind for e in load_knowledge(tmp_path).entries}

    assert kinds == {"invoice": Kind.FAQ, "renewal-plan": Kind.PLAYBOOK, "retail": Kind.CASE}


def test_optional_fields_default_and_lang_follows_the_title_script(tmp_path: Path) -> None:
    write(tmp_path, "faq/ja.md", faq("ja-q", "請求書はどこ?"))
    write(tmp_path, "faq/en.md", faq("en-q", "Where is my invoice?"))

    entries = {e.id: e for e in load_knowledge(tmp_path).entries}

    assert entries["ja-q"].lang == "ja"
    assert entries["en-q"].lang == "en"
    assert entries["en-q"].aliases == () and entries["en-q"].links == ()
    assert entries["en-q"].updated is None and entries["en-q"].phase is None


def test_quoted_date_and_windows_line_endings_and_bom_are_accepted(tmp_path: Path) -> None:
    text = faq("crlf", extra='updated: "2026-03-04"\n').replace("\n", "\r\n")
    path = tmp_path / "faq" / "crlf.md"
    path.parent.mkdir()
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    entry = parse_file(path, tmp_path)

    assert entry.updated == date(2026, 3, 4)
    assert entry.body == "Answer."


def test_broken_file_is_skipped_and_logged_while_the_others_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "faq/good.md", faq("good"))
    broken = write(tmp_path, "faq/broken.md", "---\nid: broken\ntitle: [oops\n---\nAnswer\n")

    with caplog.at_level(logging.ERROR, logger="retrieval.documents"):
        report = load_knowledge(tmp_path)

    assert [e.id for e in report.entries] == ["good"]
    assert len(report.errors) == 1
    assert report.errors[0].path == str(broken)
    assert f"{broken}:" in caplog.text and "bad YAML" in caplog.text


def test_duplicate_id_rejects_the_second_file_and_names_the_first(tmp_path: Path) -> None:
    first = write(tmp_path, "faq/a.md", faq("same", "First"))
    second = write(tmp_path, "faq/b.md", faq("same", "Second"))

    report = load_knowledge(tmp_path)

    assert [e.title for e in report.entries] == ["First"]
    assert [str(e) for e in report.errors] == [
        f"{second}:2: duplicate id 'same' (already used by {first})"
    ]


def test_drafts_readme_dot_files_and_other_folders_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "faq/real.md", faq("real"))
    write(tmp_path, "faq/drafts/wip.md", "not even front matter")
    write(tmp_path, "drafts/wip.md", faq("wip"))
    write(tmp_path, "faq/README.md", "# how to write FAQ")
    write(tmp_path, "faq/.#real.md", "editor lock file")
    write(tmp_path, "misc/other.md", faq("other"))

    report = load_knowledge(tmp_path)

    assert [e.id for e in report.entries] == ["real"]
    assert report.errors == []


def test_misspelt_visibility_keeps_an_internal_entry_out(tmp_path: Path) -> None:
    text = "---\nid: secret\ntitle: 値引きの上限\nvisiblity: internal\n---\n社内限定\n"
    write(tmp_path, "faq/secret.md", text)

    report = load_knowledge(tmp_path)

    assert report.entries == []
    messages = [e.message.split(":", 1)[0] for e in report.errors]
    assert "unknown key 'visiblity' (did you mean 'visibility'?)" in messages
    assert "missing 'visibility'" in messages
    assert all("kept off public surfaces" in e.message for e in report.errors)


def test_unrelated_unknown_key_is_a_warning_and_the_file_loads(tmp_path: Path) -> None:
    write(tmp_path, "cases/retail.md", faq("retail", extra="industry: retail\n"))

    report = load_knowledge(tmp_path)

    assert [e.id for e in report.entries] == ["retail"]
    assert report.errors == []
    assert [(w.line, w.warning) for w in report.warnings] == [(5, True)]
    assert "warning: unknown key 'industry' is ignored" in str(report.warnings[0])


def test_parse_file_raises_an_error_that_prints_as_file_line_message(tmp_path: Path) -> None:
    path = write(tmp_path, "faq/bad.md", faq("bad", extra="visibility: secret\n"))

    with pytest.raises(KnowledgeError) as raised:
        parse_file(path, tmp_path)

    # The first visibility wins the field; the second is reported where it stands.
    assert str(raised.value) == f"{path}:5: duplicate key 'visibility' (first on line 4)"


def test_parse_file_outside_the_kind_folders_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "notes/x.md", faq("x"))

    with pytest.raises(KnowledgeError, match="not inside faq/, cases/ or playbooks/"):
        parse_file(path, tmp_path)


def test_missing_root_is_reported_not_raised(tmp_path: Path) -> None:
    report = load_knowledge(tmp_path / "nope")

    assert report.entries == []
    assert [e.message for e in report.errors] == ["knowledge folder not found"]


def test_rendered_entry_reads_back_identically(tmp_path: Path) -> None:
    original = parse_file(write(tmp_path, "faq/full.md", FULL), tmp_path)
    copy = write(tmp_path, "faq/copy.md", render_entry(original))

    assert parse_file(copy, tmp_path) == replace(original, path="faq/copy.md", kind=Kind.FAQ)


def test_rendered_entry_with_awkward_text_reads_back(tmp_path: Path) -> None:
    original = parse_file(write(tmp_path, "faq/x.md", faq("x")), tmp_path)
    awkward = replace(
        original,
        title='- "Slack: 通知が来ない" #help? yes',
        aliases=("no", "2026-01-01", "a: b"),
        body="上\n\n---\n\n下",
        lang="ja",
    )
    path = write(tmp_path, "faq/y.md", render_entry(awkward))

    assert parse_file(path, tmp_path) == replace(awkward, path="faq/y.md")
